"""Booking rules, conflicts and the session lifecycle, through the booking service."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tests import factories
from tests.factories import ConditionRecordFactory, PatientFactory
from tests.scheduling.helpers import NY, at, booking_request, make_clinic
from treatments.models import Appointment, Closure, TimeOff
from treatments.services import booking

pytestmark = pytest.mark.django_db
MONDAY = date(2027, 1, 4)


@pytest.fixture
def clinic():
    return make_clinic(rooms=2)


@pytest.fixture
def desk():
    return factories.front_desk()


def field_errors(excinfo):
    return excinfo.value.message_dict


def test_a_booking_takes_a_room_and_the_devices_its_treatment_needs(clinic, desk):
    location, doctor = clinic
    appointment = booking.session_book(
        request=booking_request(doctor, at(MONDAY, 10), treatment="mn_prp"), by=desk
    )
    kinds = sorted(appointment.devices.values_list("kind__slug", flat=True))
    assert kinds == ["centrifuge", "microneedling_pen"]
    assert appointment.room.location == location
    treatment = appointment.treatment
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=treatment.duration_minutes)
    assert appointment.blocked_until - appointment.ends_at == timedelta(minutes=treatment.buffer_minutes)


def test_outside_opening_hours_is_refused(clinic, desk):
    _, doctor = clinic
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, at(MONDAY, 7)), by=desk)
    assert "opening hours" in field_errors(excinfo)["start"][0]


def test_the_clean_up_time_must_fit_before_closing(clinic, desk):
    _, doctor = clinic
    mn = factories.treatment("mn")
    late = at(MONDAY, 17) - timedelta(minutes=mn.duration_minutes)  # ends at 17:00, buffer after
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, late), by=desk)
    assert "does not work" in field_errors(excinfo)["start"][0]


def test_a_closure_day_is_refused_with_its_reason(clinic, desk):
    location, doctor = clinic
    Closure.objects.create(location=location, first_day=MONDAY, last_day=MONDAY, reason="Staff training")
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, at(MONDAY, 10)), by=desk)
    assert field_errors(excinfo)["start"] == ["The clinic is closed that day (Staff training)."]


def test_the_practitioner_must_work_that_day_and_not_be_off(clinic, desk):
    _, doctor = clinic
    saturday = MONDAY + timedelta(days=5)
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, at(saturday, 10)), by=desk)
    assert "does not work at that time" in field_errors(excinfo)["start"][0]
    TimeOff.objects.create(practitioner=doctor, starts_at=at(MONDAY, 12), ends_at=at(MONDAY, 14))
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, at(MONDAY, 12, 30)), by=desk)
    assert "is off at that time" in field_errors(excinfo)["start"][0]


def test_the_practitioner_must_be_qualified(clinic, desk):
    location, _ = clinic
    peeler = factories.make_practitioner(location, treatments=["peel_salicylic"])
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(peeler, at(MONDAY, 10)), by=desk)
    assert "not qualified for Microneedling" in field_errors(excinfo)["practitioner"][0]


def test_an_absolute_contraindication_on_that_date_is_refused(clinic, desk):
    _, doctor = clinic
    patient = PatientFactory()
    ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"), areas=[])
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, at(MONDAY, 10), patient=patient), by=desk)
    assert "must not be done" in field_errors(excinfo)["treatment"][0]


def test_an_area_limited_condition_blocks_only_its_area(clinic, desk):
    _, doctor = clinic
    patient = PatientFactory()
    ConditionRecordFactory(
        patient=patient,
        condition=factories.condition("active_acne"),
        since=date(2026, 12, 1),
        areas=["chin_jaw"],
    )
    with pytest.raises(ValidationError):
        booking.session_book(
            request=booking_request(doctor, at(MONDAY, 10), patient=patient, areas=("chin_jaw",)), by=desk
        )
    assert booking.session_book(
        request=booking_request(doctor, at(MONDAY, 10), patient=patient, areas=("forehead",)), by=desk
    )


def test_a_condition_resolved_before_the_date_no_longer_blocks(clinic, desk):
    _, doctor = clinic
    patient = PatientFactory()
    ConditionRecordFactory(
        patient=patient,
        condition=factories.condition("active_acne"),
        since=date(2026, 11, 1),
        until=MONDAY - timedelta(days=1),
        areas=["cheeks"],
    )
    assert booking.session_book(request=booking_request(doctor, at(MONDAY, 10), patient=patient), by=desk)


def test_the_minimum_interval_holds_and_only_a_clinician_may_override_it(clinic, desk):
    _, doctor = clinic
    patient = PatientFactory()
    booking.session_book(request=booking_request(doctor, at(MONDAY, 10), patient=patient), by=desk)
    too_soon = at(MONDAY + timedelta(days=7), 10)
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(request=booking_request(doctor, too_soon, patient=patient), by=desk)
    assert "only 7 days away" in field_errors(excinfo)["start"][0]
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(
            request=booking_request(doctor, too_soon, patient=patient, override_reason="asked"), by=desk
        )
    assert "Only a clinician" in field_errors(excinfo)["override_reason"][0]
    booked = booking.session_book(
        request=booking_request(doctor, too_soon, patient=patient, override_reason="Short series agreed"),
        by=doctor.user,
    )
    assert booked.interval_override_reason == "Short series agreed"
    assert booking.session_book(
        request=booking_request(doctor, at(MONDAY + timedelta(days=21), 10), patient=patient), by=desk
    )


def test_the_gap_between_different_procedures_on_overlapping_areas(clinic, desk):
    _, doctor = clinic
    patient = PatientFactory()
    booking.session_book(
        request=booking_request(doctor, at(MONDAY, 10), patient=patient, treatment="peel_salicylic"), by=desk
    )
    with pytest.raises(ValidationError) as excinfo:
        booking.session_book(
            request=booking_request(doctor, at(MONDAY + timedelta(days=7), 10), patient=patient), by=desk
        )
    assert "at least 14 days between them" in field_errors(excinfo)["start"][0]
    other_area = booking_request(
        doctor, at(MONDAY + timedelta(days=7), 10), patient=patient, areas=("scalp",)
    )
    other_area.treatment = factories.treatment("prp_scalp")
    assert booking.session_book(request=other_area, by=desk)


def test_a_taken_practitioner_room_device_or_patient_is_a_conflict(clinic, desk):
    location, doctor = clinic
    patient = PatientFactory()
    booking.session_book(request=booking_request(doctor, at(MONDAY, 10), patient=patient), by=desk)
    with pytest.raises(booking.Conflict) as excinfo:
        booking.session_book(request=booking_request(doctor, at(MONDAY, 10, 30)), by=desk)
    assert (excinfo.value.resource, excinfo.value.pk) == ("practitioner", doctor.pk)

    other = factories.make_practitioner(location)
    with pytest.raises(booking.Conflict) as excinfo:
        booking.session_book(
            request=booking_request(
                other, at(MONDAY, 10, 30), patient=patient, treatment="prp_scalp", areas=("scalp",)
            ),
            by=desk,
        )
    assert excinfo.value.resource == "patient"

    taken_room = Appointment.objects.get().room
    with pytest.raises(booking.Conflict) as excinfo:
        booking.session_book(request=booking_request(other, at(MONDAY, 10), room=taken_room), by=desk)
    assert (excinfo.value.resource, excinfo.value.pk) == ("room", taken_room.pk)

    third = factories.make_practitioner(location)
    booking.session_book(
        request=booking_request(other, at(MONDAY, 10), treatment="mn_prp"), by=desk
    )  # the only centrifuge
    with pytest.raises(booking.Conflict) as excinfo:
        booking.session_book(
            request=booking_request(third, at(MONDAY, 10, 15), treatment="prp_face"), by=desk
        )
    assert excinfo.value.resource in {"device", "room"}


def test_a_cancelled_session_frees_its_time(clinic, desk):
    _, doctor = clinic
    first = booking.session_book(request=booking_request(doctor, at(MONDAY, 10)), by=desk)
    with pytest.raises(ValidationError) as excinfo:
        booking.session_cancel(appointment=first, reason="  ", by=desk)
    assert "Say why" in field_errors(excinfo)["reason"][0]
    booking.session_cancel(appointment=first, reason="Patient is unwell", by=desk)
    first.refresh_from_db()
    assert (first.status, first.cancelled_by, first.cancel_reason) == ("cancelled", desk, "Patient is unwell")
    assert booking.session_book(request=booking_request(doctor, at(MONDAY, 10)), by=desk)


def test_moving_a_session_runs_the_same_checks_and_ignores_itself(clinic, desk):
    _, doctor = clinic
    appointment = booking.session_book(request=booking_request(doctor, at(MONDAY, 10)), by=desk)
    moved = booking.session_move(
        appointment=appointment, start=at(MONDAY, 10, 30), by=desk
    )  # overlaps its old time
    assert moved.starts_at == at(MONDAY, 10, 30)
    assert set(moved.device_holds.values_list("starts_at", flat=True)) == {at(MONDAY, 10, 30)}
    with pytest.raises(ValidationError):
        booking.session_move(appointment=appointment, start=at(MONDAY, 20), by=desk)
    other = booking.session_book(request=booking_request(doctor, at(MONDAY, 14)), by=desk)
    with pytest.raises(booking.Conflict):
        booking.session_move(appointment=other, start=at(MONDAY, 10, 45), by=desk)
    moved.refresh_from_db()
    assert moved.starts_at == at(MONDAY, 10, 30)


def test_the_lifecycle_and_who_may_move_it_on(clinic, desk):
    _, doctor = clinic
    appointment = booking.session_book(request=booking_request(doctor, at(MONDAY, 10)), by=desk)
    booking.session_status_change(appointment=appointment, status="checked_in", by=desk)
    with pytest.raises(ValidationError) as excinfo:
        booking.session_status_change(appointment=appointment, status="in_progress", by=desk)
    assert field_errors(excinfo)["status"] == ["Only a clinician can do this."]
    booking.session_status_change(appointment=appointment, status="in_progress", by=doctor.user)
    booking.session_status_change(appointment=appointment, status="completed", by=doctor.user)
    with pytest.raises(ValidationError):
        booking.session_status_change(appointment=appointment, status="no_show", by=desk)
    with pytest.raises(ValidationError):
        booking.session_move(appointment=appointment, start=at(MONDAY, 15), by=desk)


def test_a_no_show_releases_the_devices(clinic, desk):
    _, doctor = clinic
    appointment = booking.session_book(
        request=booking_request(doctor, at(MONDAY, 10), treatment="mn_prp"), by=desk
    )
    booking.session_status_change(appointment=appointment, status="no_show", by=desk, now=at(MONDAY, 10, 30))
    assert not appointment.device_holds.filter(active=True).exists()


def test_a_day_when_clocks_change_keeps_wall_clock_hours(desk):
    location = factories.make_location(open_days=[6], opens=9, closes=13)  # Sundays only
    doctor = factories.make_practitioner(location, days=[6], starts=9, ends=13)
    fall_back = date(2026, 11, 1)  # 02:00 EDT becomes 01:00 EST
    spring_forward = date(2027, 3, 14)  # 02:00 EST becomes 03:00 EDT
    for day, utc_hour in ((fall_back, 14), (spring_forward, 13)):
        appointment = booking.session_book(request=booking_request(doctor, at(day, 9)), by=desk)
        assert appointment.starts_at.astimezone(ZoneInfo("UTC")).hour == utc_hour
        with pytest.raises(ValidationError):
            booking.session_book(request=booking_request(doctor, at(day, 8)), by=desk)
    slots = booking.next_slots(factories.treatment("mn"), start=at(fall_back, 0), limit=3)
    assert [s.start.astimezone(NY).strftime("%H:%M") for s in slots][:1] == ["10:15"]
