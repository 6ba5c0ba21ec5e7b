"""A booking reads the facts of its day once, and agrees with the slot finder."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.factories import PatientFactory
from tests.scheduling.helpers import at, booking_request, make_clinic
from treatments.engine.booking_rules import SessionStatus
from treatments.models import Appointment
from treatments.selectors import booking_facts
from treatments.selectors.availability import SlotFinder
from treatments.services import booking

pytestmark = pytest.mark.django_db
MONDAY = date(2027, 1, 4)


@pytest.fixture
def clinic():
    return make_clinic(rooms=2)


def test_a_booking_check_reads_the_catalog_once(clinic):
    _, doctor = clinic
    reads = mock.Mock(wraps=booking_facts.current_catalog)
    with mock.patch.object(booking_facts, "current_catalog", reads):
        booking.session_book(
            request=booking_request(doctor, at(MONDAY, 10), PatientFactory()), by=factories.front_desk()
        )
    assert reads.call_count == 1


def test_the_queries_of_a_booking_do_not_grow_with_the_patients_sessions(clinic):
    _, doctor = clinic
    patient, desk = PatientFactory(), factories.front_desk()

    def count(day):
        with CaptureQueriesContext(connection) as queries:
            booking.session_book(
                request=booking_request(
                    doctor, at(day, 10), patient, areas=("scalp",), treatment="prp_scalp"
                ),
                by=desk,
            )
        return len(queries)

    first = count(MONDAY)
    for weeks in range(1, 4):
        Appointment.objects.filter(patient=patient).update(status=SessionStatus.COMPLETED)
        day = MONDAY + timedelta(weeks=8 * weeks)
        assert count(day) == first, f"after {weeks} sessions"


def test_every_slot_the_finder_offers_can_be_booked(clinic):
    location, doctor = clinic
    other = factories.make_practitioner(location, days=range(5))
    patient, desk = PatientFactory(), factories.front_desk()
    booking.session_book(
        request=booking_request(other, at(MONDAY, 12), patient, areas=("scalp",), treatment="prp_scalp"),
        by=desk,
    )
    booking.session_book(request=booking_request(doctor, at(MONDAY, 9), PatientFactory()), by=desk)
    slots = SlotFinder(factories.treatment("mn"), practitioner=doctor, patient=patient).find(
        MONDAY, MONDAY, limit=50
    )
    starts = [s.start for s in slots]
    assert at(MONDAY, 9) not in starts  # the practitioner's
    assert at(MONDAY, 11, 15) not in starts  # the patient is treated from 12:00
    # Its clean-up may run into the patient's next session: the patient is not needed for it.
    assert at(MONDAY, 11) in starts
    booked = booking.session_book(request=booking_request(doctor, at(MONDAY, 11), patient), by=desk)
    assert booked.blocked_until > at(MONDAY, 12)
