"""A refused booking on the booking page keeps every value typed (the time from included) and offers
the next free times of that practitioner and treatment right under its reason, a time outside the
opening hours included."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import ConditionRecordFactory, PatientFactory
from tests.scheduling.helpers import NY, at, book, next_monday
from treatments.models import Appointment

pytestmark = pytest.mark.django_db
BOOK = reverse("treatments:book_session")


def search(patient, day, **more):
    return {
        "patient": patient.pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "day": day.isoformat(),
        "time": "10:00",
        "part_of_day": "",
        **more,
    }


def test_the_free_times_carry_the_time_typed(front_desk_client, clinic):
    patient = PatientFactory()
    page = front_desk_client.get(BOOK, search(patient, next_monday()))
    html = page.content.decode()
    assert page.context["slots"]
    assert html.count('<input type="hidden" name="time" value="10:00">') == len(page.context["slots"])


def test_a_time_taken_meanwhile_keeps_the_form_and_offers_the_next_times_under_the_reason(
    front_desk_client, clinic
):
    _, doctor = clinic
    day = next_monday()
    patient = PatientFactory()
    typed = search(patient, day, practitioner=doctor.pk)
    # another desk takes 10:00 while this one reads the list
    factories.make_session(practitioner=doctor, start=at(day, 10))
    response = front_desk_client.post(
        BOOK, {**typed, "start": at(day, 10).isoformat(), "slot_practitioner": doctor.pk}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form["time"].value() == "10:00" and form["day"].value() == day.isoformat()
    assert form["practitioner"].value() == str(doctor.pk) and form["treatment"].value() == "mn"
    assert form["areas"].value() == ["cheeks"]
    html = response.content.decode()
    assert 'id="id_time"' in html and 'value="10:00"' in html[html.index('id="id_time"') - 200 :]
    offered = response.context["next_free"]
    assert offered and all(row["slot"].start >= at(day, 10) for row in offered)
    assert offered[0]["slot"].practitioner == doctor.pk and offered[0]["slot"].start == at(day, 11, 15)
    # right under the reason, before the whole list
    reason = html.index("The practitioner is already booked at that time.")
    under = html.index('aria-label="Next free times"')
    assert reason < under < html.index('aria-label="Free times"')
    first = offered[0]["slot"]
    assert (
        f'aria-label="Book {first.start.astimezone(NY):%a %b} {first.start.astimezone(NY).day} 11:15' in html
    )

    # booking one of them books it
    booked = front_desk_client.post(
        BOOK, {**typed, "start": first.start.isoformat(), "slot_practitioner": first.practitioner}
    )
    assert booked.status_code == 302
    assert Appointment.objects.get(patient=patient).starts_at == first.start


def test_a_time_outside_the_opening_hours_offers_that_days_free_times(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    patient = PatientFactory()
    response = front_desk_client.post(
        BOOK,
        {
            **search(patient, day, time="17:30"),
            "start": at(day, 17, 30).isoformat(),
            "slot_practitioner": doctor.pk,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "outside the clinic&#x27;s opening hours" in html
    assert response.context["form"]["time"].value() == "17:30"
    offered = response.context["next_free"]
    # from that day on: its first free time, not only the days after
    assert offered[0]["slot"].start == at(day, 9) and offered[0]["slot"].practitioner == doctor.pk
    assert html.index("opening hours") < html.index('aria-label="Next free times"')


def test_a_refusal_for_the_patient_offers_no_other_time(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    patient = PatientFactory()
    ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"))
    response = front_desk_client.post(
        BOOK, {**search(patient, day), "start": at(day, 10).isoformat(), "slot_practitioner": doctor.pk}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "a clinician must review the plan first" in html and "eloid" not in html
    assert not response.context["next_free"] and 'aria-label="Next free times"' not in html
    assert response.context["form"]["time"].value() == "10:00"


def test_a_refused_override_reason_is_kept_beside_the_time_chosen(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    patient = PatientFactory()
    book(doctor, at(day, 10), patient)
    # three days later is inside the series' interval, which only a clinician may override
    later = day + timedelta(days=3)
    response = front_desk_client.post(
        BOOK,
        {
            **search(patient, later),
            "start": at(later, 10).isoformat(),
            "slot_practitioner": doctor.pk,
            "override_reason": "Patient travels",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only a clinician can book inside the minimum interval." in html
    assert 'name="override_reason" value="Patient travels"' in html
    assert response.context["form"]["time"].value() == "10:00"
