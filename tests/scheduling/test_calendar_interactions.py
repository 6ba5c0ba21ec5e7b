"""Calendar interactions served by the day view: empty cells link to booking with their slot, the
booking page prefills from those links (ignoring bad values) and asks for the patient by a posted
name when none is named. Dragging (static/js/calendar.js) is walked in tests/browser."""

from datetime import time, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory
from tests.scheduling.helpers import at, book, next_monday

pytestmark = pytest.mark.django_db
BOOK = reverse("treatments:book_session")


def free_cells(response):
    return [
        cell
        for row in response.context["rows"]
        for cell in row["cells"]
        if cell["item"] is None and "cleanup" not in cell
    ]


def query_of(url):
    parts = urlsplit(unescape(url))
    return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}


def test_empty_cells_link_to_booking_with_their_practitioner_day_and_time(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    session = book(doctor, at(day, 10))
    response = front_desk_client.get(reverse("treatments:calendar_day"), {"date": day.isoformat()})
    cell = next(c for c in free_cells(response) if c["time"] == "11:30")
    path, query = query_of(cell["book"])
    assert path == BOOK
    assert query == {"practitioner": str(doctor.pk), "day": day.isoformat(), "time": "11:30"}
    html = response.content.decode()
    assert f'href="{cell["book"].replace("&", "&amp;")}"' in html
    assert f"Book 11:30 with {doctor}" in html  # the link's name for screen readers and keyboards
    # the session drags to the move endpoint; the free cells say where they are
    move = reverse("treatments:session_move", args=[session.pk])
    assert f'draggable="true" data-move-url="{move}"' in html
    assert f'data-day="{day.isoformat()}" data-time="11:30" data-practitioner="{doctor.pk}"' in html
    assert "/static/js/calendar.js" in html


def test_room_columns_link_to_booking_by_day_and_time(front_desk_client, clinic):
    day = next_monday()
    response = front_desk_client.get(
        reverse("treatments:calendar_day"), {"date": day.isoformat(), "by": "room"}
    )
    cell = next(c for c in free_cells(response) if c["time"] == "11:00")
    assert query_of(cell["book"])[1] == {"day": day.isoformat(), "time": "11:00"}
    assert "data-practitioner" not in response.content.decode()


def test_past_cells_are_not_booking_links(front_desk_client, clinic):
    day = timezone.localdate() - timedelta(days=1)
    response = front_desk_client.get(reverse("treatments:calendar_day"), {"date": day.isoformat()})
    assert free_cells(response) and not any("book" in c for c in free_cells(response))


def test_the_book_page_prefills_the_cells_practitioner_day_and_time(front_desk_client, clinic):
    _, doctor = clinic
    factories.make_practitioner(clinic[0], days=range(5))  # another one, free at the same time
    patient = PatientFactory()
    day = next_monday()
    slot = {"practitioner": doctor.pk, "day": day.isoformat(), "time": "11:00"}
    page = front_desk_client.get(BOOK, {"patient": patient.pk, **slot})
    assert page.status_code == 200
    form = page.context["form"]
    assert form["practitioner"].value() == doctor.pk
    assert form["day"].value() == day
    assert form["time"].value() == time(11)
    html = page.content.decode()
    assert 'value="11:00"' in html and f'<option value="{doctor.pk}" selected>' in html
    # searching from there offers that practitioner at that time first
    found = front_desk_client.get(BOOK, {"patient": patient.pk, **slot, "treatment": "mn", "areas": "cheeks"})
    first = found.context["slots"][0]["slot"]
    assert first.start == at(day, 11) and first.practitioner == doctor.pk


@pytest.mark.parametrize(
    "bad",
    [
        {"practitioner": "999999", "day": "2027-13-45", "time": "25:99"},
        {"practitioner": "abc", "day": "tomorrow", "time": "noon"},
        {"practitioner": "-1", "day": "", "time": "11:00+05:00"},
    ],
)
def test_bad_slot_parameters_are_ignored(front_desk_client, clinic, bad):
    patient = PatientFactory()
    page = front_desk_client.get(BOOK, {"patient": patient.pk, **bad})
    assert page.status_code == 200
    form = page.context["form"]
    assert form["practitioner"].value() is None
    assert form["day"].value() == timezone.localdate()
    assert not form["time"].value()


def test_an_inactive_practitioner_is_not_prefilled(front_desk_client, clinic):
    _, doctor = clinic
    doctor.active = False
    doctor.save(update_fields=["active"])
    page = front_desk_client.get(BOOK, {"patient": PatientFactory().pk, "practitioner": doctor.pk})
    assert page.context["form"]["practitioner"].value() is None


def test_without_a_patient_the_cell_asks_for_one_by_a_posted_name(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    ada = PatientFactory(first_name="Ada", last_name="Quillfeather")
    PatientFactory(first_name="Bob", last_name="Other")
    slot = {"practitioner": str(doctor.pk), "day": day.isoformat(), "time": "11:00"}
    step = front_desk_client.get(BOOK, slot)
    assert step.status_code == 200
    html = step.content.decode()
    assert "choose the patient" in html and 'method="post"' in html
    assert f'name="practitioner" value="{doctor.pk}"' in html and 'name="time" value="11:00"' in html

    found = front_desk_client.post(BOOK, {**slot, "q": "quillf"})
    assert found.status_code == 200
    matches = found.context["matches"]
    assert [patient for patient, _ in matches] == [ada]
    path, query = query_of(matches[0][1])
    assert path == BOOK and query == {"patient": str(ada.pk), **slot}
    assert "Quillfeather" not in matches[0][1]  # ids only in the address

    chosen = front_desk_client.get(matches[0][1])
    assert chosen.context["patient"] == ada
    assert chosen.context["form"]["time"].value() == time(11)


def test_without_a_patient_or_a_slot_the_rule_stands(front_desk_client, clinic):
    response = front_desk_client.get(BOOK, {"time": "nonsense"})
    assert response.status_code == 302 and response.url == reverse("patients:list")


def test_an_empty_search_lists_nobody(front_desk_client, clinic):
    PatientFactory()
    found = front_desk_client.post(BOOK, {"day": next_monday().isoformat(), "q": "  "})
    assert found.status_code == 200 and found.context["matches"] is None
