"""The waitlist: who is offered a freed slot, booking them in one step, and leaving the list."""

import threading
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests import factories
from tests.factories import ConditionRecordFactory, PatientFactory, make_accepted_plan
from tests.scheduling.helpers import next_monday
from treatments.models import Appointment, WaitlistEntry
from treatments.selectors.availability import clinic_zone
from treatments.selectors.waitlist import FreedSlot, offers_for, waiting
from treatments.services import booking
from treatments.services.waitlist import (
    ALREADY_WAITING,
    NO_LONGER_WAITING,
    waitlist_add,
    waitlist_book,
    waitlist_remove,
)

pytestmark = pytest.mark.django_db


DAY = next_monday()


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone())


@pytest.fixture
def clinic():
    location = factories.make_location()
    return location, factories.make_practitioner(location)


@pytest.fixture
def freed(clinic):
    """A 10:00 session of another patient, cancelled: 75 minutes given back."""
    _, doctor = clinic
    session = factories.make_session(practitioner=doctor, start=at(DAY, 10))
    session.status = Appointment.Status.CANCELLED
    session.save()
    return FreedSlot(doctor, session.location_id, session.starts_at, session.blocked_until)


def visit_entry(*, start=DAY, by=None, **preferences):
    """A patient waiting for visit 1 of an accepted microneedling plan (window: `start` only)."""
    patient = PatientFactory()
    plan = make_accepted_plan(patient, start=start, sessions=2)
    visit = plan.planned_sessions.get(visit=1)
    return waitlist_add(
        patient=patient,
        planned_session=visit,
        by=by or factories.front_desk(),
        today=timezone.localdate(),
        **preferences,
    )


def free_entry(*, earliest, latest, treatment="mn", **preferences):
    return waitlist_add(
        # Over 22: no age precaution to confirm (tests/scheduling/test_issue15_waitlist_contraindications.py)
        patient=PatientFactory(date_of_birth=date(1980, 1, 1)),
        treatment=factories.treatment(treatment),
        areas=list(factories.areas("cheeks")),
        earliest=earliest,
        latest=latest,
        by=factories.front_desk(),
        today=timezone.localdate(),
        **preferences,
    )


def offered(slot):
    return [offer.entry.pk for offer in offers_for(slot)]


def test_a_patient_whose_window_holds_the_freed_day_is_offered_it(freed):
    entry = visit_entry()
    assert offered(freed) == [entry.pk]


def test_most_urgent_first_closest_to_the_end_of_the_window(freed):
    roomy = free_entry(earliest=DAY - timedelta(days=3), latest=DAY + timedelta(days=20))
    tight = free_entry(earliest=DAY - timedelta(days=3), latest=DAY + timedelta(days=2))
    last_day = visit_entry()
    assert offered(freed) == [last_day.pk, tight.pk, roomy.pk]


@pytest.mark.parametrize(
    "outside",
    [
        {"earliest": DAY + timedelta(days=1), "latest": DAY + timedelta(days=9)},  # starts the day after
        {"earliest": timezone.localdate(), "latest": DAY - timedelta(days=1)},  # ends the day before
    ],
)
def test_a_window_that_misses_the_day_is_not_offered(freed, outside):
    free_entry(**outside)
    assert offered(freed) == []


def test_preferences_narrow_the_offers(clinic, freed):
    location, doctor = clinic
    other_location = factories.make_location(name="Other")
    other_doctor = factories.make_practitioner(location)
    mine = free_entry(earliest=DAY, latest=DAY, practitioner=doctor, location=location)
    free_entry(earliest=DAY, latest=DAY, practitioner=other_doctor)
    free_entry(earliest=DAY, latest=DAY, location=other_location)
    assert offered(freed) == [mine.pk]


def test_a_treatment_longer_than_the_freed_time_is_not_offered(freed):
    short = FreedSlot(freed.practitioner, freed.location_id, freed.start, freed.start + timedelta(minutes=45))
    visit_entry()
    assert offered(short) == []


def test_a_patient_contraindicated_on_that_day_is_not_offered(freed):
    entry = visit_entry()
    ConditionRecordFactory(patient=entry.patient, condition=factories.condition("pregnancy"), until=None)
    assert offered(freed) == []


def test_a_patient_already_busy_at_that_time_is_not_offered(clinic, freed):
    entry = visit_entry()
    elsewhere = factories.make_practitioner(clinic[0])
    factories.make_session(patient=entry.patient, practitioner=elsewhere, start=freed.start)
    assert offered(freed) == []


def test_booking_from_the_waitlist_books_the_visit_and_leaves_the_list(freed):
    entry = visit_entry()
    session = waitlist_book(
        entry_id=entry.pk, practitioner=freed.practitioner, start=freed.start, by=factories.front_desk()
    )
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.BOOKED and entry.booked_session == session
    assert session.planned_session == entry.planned_session and session.starts_at == freed.start
    assert offered(freed) == []
    with pytest.raises(ValidationError) as refused:
        waitlist_book(
            entry_id=entry.pk, practitioner=freed.practitioner, start=freed.start, by=factories.front_desk()
        )
    assert refused.value.messages == [NO_LONGER_WAITING]


def test_a_refused_booking_leaves_the_patient_waiting(clinic, freed):
    entry = visit_entry()
    factories.make_session(practitioner=freed.practitioner, start=freed.start)  # someone took it
    with pytest.raises(booking.Conflict):
        waitlist_book(
            entry_id=entry.pk, practitioner=freed.practitioner, start=freed.start, by=factories.front_desk()
        )
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING


def test_a_day_outside_the_window_is_refused_with_the_window(freed):
    entry = free_entry(earliest=DAY + timedelta(days=1), latest=DAY + timedelta(days=5))
    with pytest.raises(ValidationError) as refused:
        waitlist_book(
            entry_id=entry.pk, practitioner=freed.practitioner, start=freed.start, by=factories.front_desk()
        )
    assert "outside this patient's window" in refused.value.messages[0]


def test_a_visit_booked_some_other_way_no_longer_waits(clinic, freed):
    entry = visit_entry()
    factories.make_session(
        patient=entry.patient,
        practitioner=clinic[1],
        start=at(DAY, 14),
        plan=entry.planned_session.plan,
        planned_session=entry.planned_session,
    )
    assert not waiting().filter(pk=entry.pk).exists()


def test_a_removed_entry_is_not_offered(freed):
    entry = visit_entry()
    waitlist_remove(entry=entry, by=factories.front_desk())
    assert offered(freed) == []
    with pytest.raises(ValidationError):
        waitlist_remove(entry=entry, by=factories.front_desk())


def test_the_same_visit_waits_once(freed):
    entry = visit_entry()
    with pytest.raises(ValidationError) as refused:
        waitlist_add(
            patient=entry.patient,
            planned_session=entry.planned_session,
            by=factories.front_desk(),
            today=timezone.localdate(),
        )
    assert refused.value.messages == [ALREADY_WAITING]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_adding_the_same_visit_at_once_make_one_entry(catalog):
    patient = PatientFactory()
    plan = make_accepted_plan(patient, start=DAY, sessions=2)
    visit = plan.planned_sessions.get(visit=1)
    desks = [factories.front_desk(), factories.front_desk()]
    barrier = threading.Barrier(2)
    outcomes = []

    def add(desk):
        try:
            barrier.wait()
            waitlist_add(patient=patient, planned_session=visit, by=desk, today=timezone.localdate())
            outcomes.append("added")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(desk,)) for desk in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["added", ALREADY_WAITING])
    assert WaitlistEntry.objects.filter(planned_session=visit, status="waiting").count() == 1
