"""The booking judgement and the session lifecycle, as pure functions: no database."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from treatments.engine import booking_rules, planning
from treatments.engine.booking_rules import (
    BookingFacts,
    PastSession,
    Problem,
    Resource,
    SessionStatus,
    SiteHours,
    judge_booking,
    transition_problem,
)
from treatments.engine.timeslots import Claim, Held, Taken, hold_resources

NY = ZoneInfo("America/New_York")
DAY = date(2027, 1, 4)  # a Monday


def at(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


CATALOG = planning.prepare_catalog(
    {
        "areas": [{"slug": "face", "name": "Face", "children": [{"slug": "cheeks", "name": "Cheeks"}]}],
        "treatments": [{"slug": "mn", "name": "Microneedling"}],
        "protocols": [{"treatment": "mn", "concern": "scarring", "interval_days": {"min": 28}}],
    }
)


def facts(**changes):
    base = BookingFacts(
        patient=7,
        practitioner=1,
        practitioner_name="Dr Lee",
        treatment="mn",
        treatment_name="Microneedling",
        areas=("cheeks",),
        start=at(10),
        end=at(11),
        blocked_until=at(11, 15),
        day=DAY,
        room_types=("treatment_room",),
        device_types=("pen",),
        qualified=True,
        sites=(SiteHours(location=3, opening=((at(8), at(18)),), working=((at(9), at(17)),), closure=None),),
        time_off=(),
        catalog=CATALOG,
        profile={
            "today": DAY.isoformat(),
            "patient": {"birth_date": "1990-01-01", "sex": "female", "fitzpatrick": 2},
            "concerns": [],
            "conditions": [],
            "cleared": [],
        },
        past_sessions=(),
        plan_min_interval=None,
        room=None,
        devices=(),
        rooms_at_sites=(
            Resource(10, "Room 1", 3, "treatment_room"),
            Resource(11, "Room 2", 3, "treatment_room"),
        ),
        devices_at_sites=(Resource(20, "Pen 1", 3, "pen"),),
        busy={},
    )
    return replace(base, **changes)


def test_a_free_time_holds_the_first_free_room_and_a_device_of_each_kind():
    judgement = judge_booking(facts(busy={("room", 10): [(at(9), at(10, 30))]}), is_clinician=False)
    assert judgement.problems == ()
    assert (judgement.location, judgement.held, judgement.taken) == (3, Held(11, (20,)), None)


def test_problems_are_given_per_field_in_the_order_the_desk_reads_them():
    judgement = judge_booking(
        facts(areas=(), qualified=False, start=at(16, 30), end=at(17, 30), blocked_until=at(17, 45)),
        is_clinician=False,
    )
    assert judgement.problems == (
        Problem("areas", booking_rules.CHOOSE_AREAS),
        Problem("practitioner", "Dr Lee is not qualified for Microneedling."),
        Problem("start", "Dr Lee does not work at that time."),
    )
    assert judgement.held is None and judgement.taken is None


def test_a_practitioner_without_hours_that_weekday_is_told_so():
    judgement = judge_booking(facts(sites=()), is_clinician=False)
    assert judgement.problems == (Problem("start", "Dr Lee does not work at that time (Mondays)."),)


def test_a_closure_and_time_off_are_problems_of_the_start():
    closed = facts(sites=(replace(facts().sites[0], closure="Inventory"),))
    assert judge_booking(closed, is_clinician=False).problems == (
        Problem("start", "The clinic is closed that day (Inventory)."),
    )
    off = facts(time_off=((at(11), at(12)),))  # inside the clean-up
    assert judge_booking(off, is_clinician=False).problems == (
        Problem("start", "Dr Lee is off at that time."),
    )


def test_the_series_interval_comes_from_the_plan_else_from_the_catalog():
    earlier = PastSession("mn", "Microneedling", ("cheeks",), DAY - timedelta(days=21))
    catalog_says = judge_booking(facts(past_sessions=(earlier,)), is_clinician=False)
    assert "needs at least 28 days" in catalog_says.problems[0].message
    plan_allows = judge_booking(facts(past_sessions=(earlier,), plan_min_interval=21), is_clinician=False)
    assert plan_allows.problems == ()


def test_only_a_clinician_books_inside_the_interval_and_only_with_a_reason():
    earlier = (PastSession("mn", "Microneedling", ("cheeks",), DAY - timedelta(days=7)),)
    desk = judge_booking(facts(past_sessions=earlier), is_clinician=False)
    assert [p.field for p in desk.problems] == ["start"]
    clinician = judge_booking(facts(past_sessions=earlier), is_clinician=True)
    assert clinician.problems[-1] == Problem("start", booking_rules.CLINICIAN_MAY_OVERRIDE)
    desk_reason = judge_booking(facts(past_sessions=earlier), is_clinician=False, override_reason="asked")
    assert desk_reason.problems == (Problem("override_reason", booking_rules.OVERRIDE_ONLY_CLINICIAN),)
    overridden = judge_booking(facts(past_sessions=earlier), is_clinician=True, override_reason=" asked ")
    assert (overridden.problems, overridden.interval_override_reason) == ((), "asked")
    assert judge_booking(facts(), is_clinician=True, override_reason="asked").interval_override_reason == ""


def test_a_chosen_room_elsewhere_or_of_another_kind_is_a_problem_of_the_room():
    elsewhere = Resource(40, "Annex", 4, "treatment_room")
    assert judge_booking(facts(room=elsewhere), is_clinician=False).problems == (
        Problem("room", "Annex is not at this practitioner's location that day."),
    )
    laser = Resource(41, "Laser room", 3, "laser_room")
    assert judge_booking(facts(room=laser), is_clinician=False).problems == (
        Problem("room", "Laser room is not a room this treatment can use."),
    )


def test_a_taken_practitioner_comes_before_a_taken_room_patient_or_device():
    held = [(at(9, 30), at(10, 30))]
    everything = {
        ("practitioner", 1): held,
        ("room", 10): held,
        ("room", 11): held,
        ("patient", 7): held,
        ("device", 20): held,
    }
    taken = [judge_booking(facts(busy=everything), is_clinician=False).taken]
    for resource in (("practitioner", 1), ("room", 10), ("patient", 7)):
        everything = {k: v for k, v in everything.items() if k != resource and k[0] != resource[0]}
        taken.append(judge_booking(facts(busy=everything), is_clinician=False).taken)
    assert taken == [
        Taken("practitioner", 1),
        Taken("room", None),
        Taken("patient", 7),
        Taken("device", None),
    ]


def test_a_taken_room_or_device_the_desk_chose_is_named():
    held = [(at(9), at(12))]
    room = Resource(10, "Room 1", 3, "treatment_room")
    judgement = judge_booking(facts(room=room, busy={("room", 10): held}), is_clinician=False)
    assert judgement.taken == Taken("room", 10)
    pens = (Resource(22, "Pen 3", 3, "pen"), Resource(21, "Pen 2", 3, "pen"))
    judgement = judge_booking(facts(devices=pens, busy={("device", 22): held}), is_clinician=False)
    assert judgement.taken == Taken("device", 22)


def test_the_patient_is_held_for_the_treatment_time_not_the_clean_up():
    claim = Claim(practitioner=1, patient=7)
    next_session = {("patient", 7): [(at(11), at(12))]}
    assert hold_resources(next_session, claim, at(10), at(11), at(11, 15)) == Held(None, ())
    assert hold_resources(next_session, claim, at(10, 15), at(11, 15), at(11, 30)) == Taken("patient", 7)


@pytest.mark.parametrize(
    ("current", "wanted", "is_clinician", "problem"),
    [
        ("booked", "checked_in", False, None),
        ("checked_in", "booked", False, None),
        ("checked_in", "in_progress", False, booking_rules.ONLY_CLINICIAN),
        ("checked_in", "in_progress", True, None),
        ("completed", "no_show", True, "A completed session cannot become no show."),
        ("cancelled", "booked", True, "A cancelled session cannot become booked."),
    ],
)
def test_the_session_lifecycle(current, wanted, is_clinician, problem):
    assert transition_problem(current, wanted, is_clinician=is_clinician) == problem


def test_the_named_sets_of_statuses():
    s = SessionStatus
    assert {s.BOOKED, s.CHECKED_IN, s.IN_PROGRESS, s.COMPLETED} == booking_rules.ACTIVE
    assert booking_rules.MOVABLE == booking_rules.REMINDABLE == {s.BOOKED, s.CHECKED_IN}
    assert booking_rules.MOVABLE | {s.IN_PROGRESS} == booking_rules.OPEN
    assert booking_rules.RECORD_DRIVEN <= booking_rules.ACTIVE
    moves = {wanted for _, wanted in booking_rules.TRANSITIONS}
    assert moves >= booking_rules.RECORD_DRIVEN
