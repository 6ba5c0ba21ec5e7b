"""What the scheduling tests share: days and times in the clinic's zone, a clinic to book in, and
booking through the service or the API.

Django, the factories and the models are imported inside the functions, so that a module of pure
engine tests (test_slots) may import `at` without Django."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")
HTMX = {"HTTP_HX_REQUEST": "true"}


def next_monday():
    """The Monday after today (a week on, when today is a Monday)."""
    from django.utils import timezone

    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def make_clinic(*, rooms=3, **hours):
    """A location open Monday to Saturday with `rooms` treatment rooms, and one practitioner working
    there Monday to Friday (`hours`: starts, ends): (location, practitioner)."""
    from tests import factories

    location = factories.make_location(open_days=range(6), rooms=rooms)
    return location, factories.make_practitioner(location, days=range(5), **hours)


def booking_request(doctor, start, patient=None, *, treatment="mn", areas=("cheeks",), **extra):
    """A BookingRequest of `treatment` on `areas` (slugs) with `doctor` at `start`; a new patient
    unless one is named; `extra`: room, devices, plan, ..."""
    from tests import factories
    from tests.factories import PatientFactory
    from treatments.services import booking

    return booking.BookingRequest(
        patient=patient or PatientFactory(),
        treatment=factories.treatment(treatment),
        areas=factories.areas(*areas),
        practitioner=doctor,
        start=start,
        **extra,
    )


def book(doctor, start, patient=None, *, treatment="mn", areas=("cheeks",), room=None):
    """Book through the booking service, by a new front desk user."""
    from tests import factories
    from treatments.services import booking

    return booking.session_book(
        request=booking_request(doctor, start, patient, treatment=treatment, areas=areas, room=room),
        by=factories.front_desk(),
    )


def booking_body(patient, doctor, start, **extra):
    """The API's body for booking microneedling on the cheeks."""
    return {
        "patient": patient.pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "practitioner": doctor.pk,
        "start": start.isoformat(),
        **extra,
    }
