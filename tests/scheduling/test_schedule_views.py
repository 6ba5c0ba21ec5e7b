from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from tests.scheduling.helpers import at, book, next_monday
from treatments.models import Appointment, Practitioner, Treatment, WorkingHours

pytestmark = pytest.mark.django_db


def test_the_day_view_shows_sessions_in_practitioner_and_room_columns(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    session = book(doctor, at(day, 10), PatientFactory(first_name="Ada", last_name="Byron"))
    response = front_desk_client.get(reverse("treatments:calendar_day"), {"date": day.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Byron" in html and str(doctor) in html
    # 60 minutes, then 15 of clean-up marked as such, in 15-minute rows
    assert 'rowspan="4" class="calendar-session' in html
    assert 'rowspan="1" class="calendar-cleanup' in html and "Clean-up until 11:15" in html
    by_room = front_desk_client.get(
        reverse("treatments:calendar_day"), {"date": day.isoformat(), "by": "room"}
    )
    assert session.room.name in by_room.content.decode()


def test_calendar_pages_are_for_front_desk_and_clinicians(client, clinic):
    url = reverse("treatments:calendar_day")
    assert client.get(url).status_code == 302
    client.force_login(factories.clinic_admin())
    assert client.get(url).status_code == 403
    client.force_login(factories.clinician())
    assert client.get(url).status_code == 200


@pytest.mark.postgres
def test_the_day_view_query_count_does_not_grow_with_sessions(front_desk_client, clinic):
    location, _ = clinic
    day = next_monday()

    def fill(practitioners):
        rows = []
        for _ in range(practitioners):
            doctor = factories.make_practitioner(location, days=range(5))
            patient = PatientFactory()
            mn = factories.treatment("mn")
            for hour in range(10):
                start = at(day, 7) + timedelta(minutes=75 * hour)
                rows.append(
                    Appointment(
                        patient=patient,
                        treatment=mn,
                        practitioner=doctor,
                        location=location,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=60),
                        blocked_until=start + timedelta(minutes=75),
                    )
                )
        Appointment.objects.bulk_create(rows)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = front_desk_client.get(reverse("treatments:calendar_day"), {"date": day.isoformat()})
        assert response.status_code == 200
        return len(queries)

    fill(1)
    few = count()
    fill(49)
    assert Appointment.objects.count() == 500
    assert count() == few


def test_week_view_lists_each_days_sessions(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    book(doctor, at(day + timedelta(days=2), 11), PatientFactory(last_name="Wednesday"))
    response = front_desk_client.get(reverse("treatments:calendar_week"), {"date": day.isoformat()})
    assert "Wednesday" in response.content.decode()


def test_check_in_from_the_panel_with_htmx(front_desk_client, clinic):
    _, doctor = clinic
    session = book(doctor, at(next_monday(), 10))
    response = front_desk_client.post(
        reverse("treatments:session_status", args=[session.pk]),
        {"status": "checked_in"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Checked in" in response.content.decode()
    assert "<html" not in response.content.decode()
    session.refresh_from_db()
    assert session.status == "checked_in"
    refused = front_desk_client.post(
        reverse("treatments:session_status", args=[session.pk]), {"status": "completed"}
    )
    assert refused.status_code == 400


def test_cancel_needs_a_reason_and_keeps_it(front_desk_client, clinic):
    _, doctor = clinic
    session = book(doctor, at(next_monday(), 10))
    url = reverse("treatments:session_cancel", args=[session.pk])
    assert front_desk_client.post(url, {"reason": ""}).status_code == 400
    response = front_desk_client.post(url, {"reason": "Flu"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == ("cancelled", "Flu")


def test_moving_onto_a_taken_time_explains_and_offers_other_times(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    book(doctor, at(day, 10))
    session = book(doctor, at(day, 14))
    response = front_desk_client.post(
        reverse("treatments:session_move", args=[session.pk]), {"day": day.isoformat(), "time": "10:30"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "already booked" in html and "Free times for this session" in html
    assert 'value="10:30"' in html  # what was typed is kept
    moved = front_desk_client.post(
        reverse("treatments:session_move", args=[session.pk]), {"day": day.isoformat(), "time": "15:00"}
    )
    assert moved.status_code == 302
    session.refresh_from_db()
    assert timezone.localtime(session.starts_at).hour == 15


def test_book_a_session_from_free_times(front_desk_client, clinic):
    patient = PatientFactory()
    day = next_monday()
    params = {"patient": patient.pk, "treatment": "mn", "areas": ["cheeks"], "day": day.isoformat()}
    page = front_desk_client.get(reverse("treatments:book_session"), params)
    assert page.status_code == 200
    slots = page.context["slots"]
    assert slots and slots[0]["slot"].local_day >= day
    first = slots[0]["slot"]
    posted = front_desk_client.post(
        reverse("treatments:book_session"),
        {**params, "start": first.start.isoformat(), "slot_practitioner": first.practitioner},
    )
    assert posted.status_code == 302
    assert Appointment.objects.get(patient=patient).starts_at == first.start
    again = front_desk_client.post(
        reverse("treatments:book_session"),
        {
            **params,
            "start": (first.start + timedelta(days=3)).isoformat(),
            "slot_practitioner": first.practitioner,
        },
    )
    assert again.status_code == 400
    assert "days away" in again.content.decode()
    assert again.context["form"]["treatment"].value() == "mn"


def test_htmx_slot_search_returns_only_the_list(front_desk_client, clinic):
    patient = PatientFactory()
    response = front_desk_client.get(
        reverse("treatments:book_session"),
        {"patient": patient.pk, "treatment": "mn", "areas": ["cheeks"], "day": next_monday().isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode() and "Free times" in response.content.decode()


def confirmed(rows, **changes):
    """The proposal formset as the page posts it; `changes`: {"0-practitioner": value, ...}."""
    data = {"proposal-TOTAL_FORMS": len(rows), "proposal-INITIAL_FORMS": len(rows)}
    for n, row in enumerate(rows):
        for field in row["form"]:
            value = field.value()
            data[f"proposal-{n}-{field.name}"] = "" if value is None else value
    data.update({f"proposal-{key}": value for key, value in changes.items()})
    return data


def test_front_desk_books_a_whole_plan_in_one_step(front_desk_client, clinic):
    patient = PatientFactory(last_name="Planned")
    plan = make_accepted_plan(patient, sessions=3, start=next_monday())
    page = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk]))
    assert page.status_code == 200
    assert len(page.context["rows"]) == 3
    html = page.content.decode()
    assert 'name="proposal-TOTAL_FORMS"' in html and 'name="proposal-2-start"' in html
    response = front_desk_client.post(
        reverse("treatments:plan_book", args=[plan.pk]), confirmed(page.context["rows"])
    )
    assert response.status_code == 302
    assert Appointment.objects.filter(plan=plan).count() == 3
    patient_page = front_desk_client.get(reverse("patients:detail", args=[patient.pk]))
    assert patient_page.context["upcoming_sessions"][0].plan_id == plan.pk


def test_a_stale_plan_proposal_books_nothing(front_desk_client, clinic):
    _, doctor = clinic
    plan = make_accepted_plan(PatientFactory(), sessions=2, start=next_monday())
    page = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk]))
    rows = page.context["rows"]
    book(doctor, rows[1]["slot"].start, treatment="peel_salicylic", areas=("forehead",))
    response = front_desk_client.post(reverse("treatments:plan_book", args=[plan.pk]), confirmed(rows))
    assert response.status_code == 409
    assert not Appointment.objects.filter(plan=plan).exists()
    assert len(response.context["rows"]) == 2


def test_unknown_date_parameter_falls_back_to_today(front_desk_client, clinic):
    response = front_desk_client.get(reverse("treatments:calendar_day"), {"date": "not-a-date"})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()


def test_a_day_without_location_is_a_404(front_desk_client):
    assert front_desk_client.get(reverse("treatments:calendar_day")).status_code == 404


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("treatments:book_session", {"patient": "abc"}),
        ("treatments:book_session", {"patient": "1", "planned_session": "x"}),
        ("treatments:calendar_week", {"practitioner": "x", "date": "2027-13-45"}),
        ("treatments:calendar_day", {"location": "x", "by": "nonsense"}),
    ],
)
def test_malformed_parameters_never_cause_a_server_error(front_desk_client, clinic, name, params):
    response = front_desk_client.get(reverse(name), params)
    assert response.status_code < 500


def test_a_proposal_naming_an_unknown_practitioner_books_nothing(front_desk_client, clinic):
    plan = make_accepted_plan(PatientFactory(), sessions=1, start=next_monday())
    rows = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk])).context["rows"]
    form = confirmed(rows, **{"0-practitioner": "999999"})
    response = front_desk_client.post(reverse("treatments:plan_book", args=[plan.pk]), form)
    assert response.status_code == 400
    assert not Appointment.objects.filter(plan=plan).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"0-session": "999999"},  # a session of another plan, or one booked since
        {"0-start": "not a time"},
        {"0-practitioner": "x"},
        {"TOTAL_FORMS": "", "INITIAL_FORMS": ""},  # no formset at all
    ],
)
def test_a_tampered_or_out_of_date_proposal_asks_to_confirm_again(front_desk_client, clinic, changes):
    plan = make_accepted_plan(PatientFactory(), sessions=2, start=next_monday())
    rows = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk])).context["rows"]
    response = front_desk_client.post(
        reverse("treatments:plan_book", args=[plan.pk]), confirmed(rows, **changes)
    )
    assert response.status_code == 400
    assert "The proposal is out of date" in response.content.decode()
    assert len(response.context["rows"]) == 2  # the new proposal
    assert not Appointment.objects.filter(plan=plan).exists()


def test_confirming_an_empty_proposal_books_nothing(front_desk_client, clinic):
    plan = make_accepted_plan(PatientFactory(), sessions=1, start=next_monday())
    response = front_desk_client.post(reverse("treatments:plan_book", args=[plan.pk]), confirmed([]))
    assert response.status_code == 400
    assert "Nothing left to book in this plan." in response.content.decode()
    assert not Appointment.objects.exists()


def _practitioner_numbered_like(user, location, *, besides):
    """A qualified practitioner at `location`, other than `besides`, whose primary key is `user`'s id."""
    decoy = Practitioner.objects.filter(pk=user.pk).exclude(pk=besides.pk).first()
    if decoy is None:
        decoy = Practitioner.objects.create(pk=user.pk, user=factories.clinician())
        decoy.treatments.set(Treatment.objects.all())
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=decoy, location=location, weekday=d, starts=time(9), ends=time(17))
            for d in range(5)
        )
    return decoy


def test_the_plan_is_proposed_with_the_patients_preferred_practitioner(front_desk_client, clinic):
    # The patient's preferred practitioner is a User: it was once looked up as a Practitioner id,
    # which picked whoever had that number.
    location, _ = clinic
    user = factories.clinician()
    preferred = factories.make_practitioner(location, user=user, days=range(5))
    if preferred.pk == user.pk:  # the numbers happen to match: give the practitioner another user
        user = factories.clinician()
        preferred.user = user
        preferred.save()
    decoy = _practitioner_numbered_like(user, location, besides=preferred)
    assert decoy != preferred and decoy.pk == user.pk
    patient = PatientFactory(preferred_practitioner=user)
    plan = make_accepted_plan(patient, sessions=2, start=next_monday())
    page = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk]))
    assert page.context["practitioner"] == preferred
    assert {row["slot"].practitioner for row in page.context["rows"]} == {preferred.pk}
    chosen = front_desk_client.get(
        reverse("treatments:plan_book", args=[plan.pk]), {"practitioner": decoy.pk}
    )
    assert chosen.context["practitioner"] == decoy
