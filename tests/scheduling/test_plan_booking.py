"""Proposing dates for a whole plan and booking them all at once, or not at all."""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from tests.scheduling.helpers import book, make_clinic
from treatments.models import Appointment, PlannedSession
from treatments.services import booking

pytestmark = pytest.mark.django_db
MONDAY = date(2027, 1, 4)


def accepted_plan(patient, **options):
    return make_accepted_plan(patient, start=options.pop("start", MONDAY), **options)


@pytest.fixture
def clinic():
    return make_clinic(rooms=2)  # make_location's default


def test_proposal_places_every_session_at_the_plan_interval_with_one_practitioner(clinic):
    _, doctor = clinic
    factories.make_practitioner(clinic[0], days=range(5))
    plan = accepted_plan(PatientFactory(), sessions=4)
    proposal, problem = booking.propose_plan(plan, practitioner=doctor)
    assert problem is None
    days = [slot.local_day for _, slot in proposal]
    assert days[0] == MONDAY
    gaps = [(b - a).days for a, b in pairwise(days)]
    assert all(14 <= gap <= 56 for gap in gaps)
    assert {slot.practitioner for _, slot in proposal} == {doctor.pk}
    assert [session.session for session, _ in proposal] == [1, 2, 3, 4]


def test_a_busy_practitioner_falls_back_to_another(clinic):
    location, doctor = clinic
    other = factories.make_practitioner(location, days=range(5))
    doctor.working_hours.all().delete()
    plan = accepted_plan(PatientFactory(), sessions=2)
    proposal, problem = booking.propose_plan(plan, practitioner=doctor)
    assert problem is None
    assert {slot.practitioner for _, slot in proposal} == {other.pk}


def test_booking_the_proposal_books_everything(clinic):
    plan = accepted_plan(PatientFactory(), sessions=3)
    proposal, _ = booking.propose_plan(plan)
    booked = booking.plan_book(plan=plan, choices=proposal, by=factories.front_desk())
    assert len(booked) == 3
    assert set(Appointment.objects.filter(plan=plan).values_list("planned_session__session", flat=True)) == {
        1,
        2,
        3,
    }
    assert booking.plan_sessions_to_book(plan) == []
    assert booking.propose_plan(plan) == ([], None)


def test_plan_booking_is_all_or_nothing(clinic):
    _, doctor = clinic
    patient = PatientFactory()
    plan = accepted_plan(patient, sessions=3)
    proposal, _ = booking.propose_plan(plan)
    third = proposal[2][1]
    # Someone else takes the practitioner at the third session's time before the desk confirms.
    book(doctor, third.start, treatment="peel_salicylic", areas=("forehead",))
    with pytest.raises(booking.Conflict):
        booking.plan_book(plan=plan, choices=proposal, by=factories.front_desk())
    assert not Appointment.objects.filter(plan=plan).exists()


def test_a_rule_failure_names_the_session_and_books_nothing(clinic):
    plan = accepted_plan(PatientFactory(), sessions=2)
    proposal, _ = booking.propose_plan(plan)
    session, slot = proposal[1]
    too_soon = type(slot)(
        slot.start - timedelta(days=(slot.local_day - proposal[0][1].local_day).days - 7),
        slot.end,
        slot.practitioner,
        slot.room,
        slot.devices,
    )
    with pytest.raises(ValidationError) as excinfo:
        booking.plan_book(plan=plan, choices=[proposal[0], (session, too_soon)], by=factories.front_desk())
    assert excinfo.value.messages[0].startswith("Visit 2, Microneedling:")
    assert not Appointment.objects.filter(plan=plan).exists()


def test_after_a_partial_booking_the_rest_follows_the_booked_session(clinic):
    plan = accepted_plan(PatientFactory(), sessions=3)
    proposal, _ = booking.propose_plan(plan)
    booking.plan_book(plan=plan, choices=proposal[:1], by=factories.front_desk())
    rest, problem = booking.propose_plan(plan)
    assert problem is None
    assert [s.session for s, _ in rest] == [2, 3]
    assert (rest[0][1].local_day - proposal[0][1].local_day).days >= 14


def test_a_plan_that_cannot_fit_says_which_visit(clinic):
    _, doctor = clinic
    doctor.working_hours.all().delete()
    plan = accepted_plan(PatientFactory(), sessions=2)
    proposal, problem = booking.propose_plan(plan)
    assert proposal == []
    assert problem.startswith("No free slot for visit 1 (Microneedling)")


def test_proposals_do_not_double_book_sessions_of_the_same_visit(clinic):
    patient = PatientFactory()
    plan = accepted_plan(patient, sessions=1)
    extra = PlannedSession.objects.create(
        plan=plan,
        visit=1,
        treatment=factories.treatment("prp_scalp"),
        session=1,
        earliest=MONDAY,
        latest=MONDAY,
    )
    extra.areas.set(factories.areas("scalp"))
    plan.chosen["items"].append(
        {"treatment": "prp_scalp", "areas": ["scalp"], "interval_days": {"min": 28, "typical": 28, "max": 42}}
    )
    plan.save()
    proposal, problem = booking.propose_plan(plan)
    assert problem is None
    (_, first), (_, second) = proposal
    assert first.local_day == second.local_day == MONDAY
    assert second.start >= first.blocked_until or first.start >= second.blocked_until
    booking.plan_book(plan=plan, choices=proposal, by=factories.front_desk())
    assert Appointment.objects.filter(plan=plan).count() == 2
