"""Named querysets and the lifecycle on Appointment, and a patient's sessions."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory
from treatments.engine.booking_rules import SessionStatus
from treatments.models import Appointment
from treatments.selectors.sessions import patient_sessions

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@pytest.fixture
def session_at():
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    patient = PatientFactory()
    mn = factories.treatment("mn")

    def make(start, status=SessionStatus.BOOKED, who=patient):
        return Appointment.objects.create(
            patient=who,
            treatment=mn,
            practitioner=doctor,
            location=location,
            starts_at=start,
            ends_at=start + timedelta(minutes=60),
            blocked_until=start + timedelta(minutes=75),
            status=status,
        )

    make.patient = patient
    return make


def at(hour, minute=0):
    return datetime.combine(datetime(2027, 1, 4).date(), time(hour, minute), tzinfo=NY)


def test_the_status_choices_are_the_lifecycles_statuses():
    assert set(Appointment.Status.values) == {status.value for status in SessionStatus}


def test_active_between_and_overlapping(session_at):
    booked = session_at(at(10))
    session_at(at(12), status=SessionStatus.CANCELLED)
    completed = session_at(at(14), status=SessionStatus.COMPLETED)
    assert set(Appointment.objects.active()) == {booked, completed}
    assert list(Appointment.objects.between(at(10), at(12))) == [booked]
    assert list(Appointment.objects.overlapping(at(11), at(11, 30))) == [booked]  # its clean-up
    assert list(Appointment.objects.overlapping(at(11, 15), at(12))) == []


def test_the_session_knows_what_it_may_become(session_at):
    session = session_at(at(10), status=SessionStatus.CHECKED_IN)
    assert session.can_move and session.is_active
    assert session.transition_problem("in_progress", is_clinician=False) == "Only a clinician can do this."
    assert session.transition_problem("in_progress", is_clinician=True) is None


def test_calendar_joins_read_a_row_without_further_queries(session_at):
    session_at(at(10))
    rows = list(Appointment.objects.with_calendar_joins())
    with CaptureQueriesContext(connection) as queries:
        for row in rows:
            str(row.patient), str(row.treatment), str(row.practitioner), row.room
    assert len(queries) == 0


def test_a_patients_sessions_are_split_around_now_in_one_query(session_at):
    now = timezone.now()
    past = session_at(now - timedelta(days=3))
    later, soon = session_at(now + timedelta(days=9)), session_at(now + timedelta(days=2))
    session_at(now + timedelta(days=1), who=PatientFactory())
    with CaptureQueriesContext(connection) as queries:
        upcoming, earlier = patient_sessions(
            session_at.patient.pk, names={}, url=lambda pk: f"/s/{pk}", now=now
        )
    assert [s.pk for s in upcoming] == [soon.pk, later.pk] and [s.pk for s in earlier] == [past.pk]
    assert earlier[0].url == f"/s/{past.pk}" and earlier[0].status_label == "Booked"
    assert len(queries) == 1
