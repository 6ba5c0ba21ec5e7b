from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.scheduling.helpers import NY, at
from treatments.engine.timeslots import (
    Calendar,
    PlannedVisit,
    Slot,
    SlotRequest,
    day_windows,
    find_slots,
    intersect,
    local_window,
    overlaps,
    propose_dates,
    subtract,
)

DAY = date(2026, 12, 1)
REQUEST = SlotRequest(
    duration=timedelta(minutes=60),
    buffer=timedelta(minutes=15),
    practitioners=(1,),
    room_types=("treatment_room",),
    device_types=("microneedling_pen",),
    patient=7,
)


def calendar(busy=None):
    busy = busy or {}
    return Calendar(
        windows={1: [(at(DAY, 9), at(DAY, 13))], 2: [(at(DAY, 9), at(DAY, 13))]},
        busy={key: sorted(value) for key, value in busy.items()},
        rooms={"treatment_room": [10]},
        devices={"microneedling_pen": [20, 21], "centrifuge": [30]},
    )


def test_the_first_slot_is_the_opening_time_with_a_room_and_a_device():
    slot = find_slots(calendar(), REQUEST, limit=1)[0]
    assert slot == Slot(at(DAY, 9), at(DAY, 10), 1, 10, (20,))


def test_slots_fit_duration_and_buffer_before_closing():
    slots = find_slots(calendar(), REQUEST, limit=100)
    assert slots[-1].start == at(DAY, 11, 45)
    assert all(s.end + timedelta(minutes=15) <= at(DAY, 13) for s in slots)


@pytest.mark.parametrize(
    "busy_key",
    [("practitioner", 1), ("patient", 7), ("room", 10)],
)
def test_a_busy_resource_pushes_the_slot(busy_key):
    busy = {busy_key: [(at(DAY, 9), at(DAY, 10, 30))]}
    assert find_slots(calendar(busy), REQUEST, limit=1)[0].start == at(DAY, 10, 30)


def test_a_second_device_of_the_type_is_used_when_the_first_is_busy():
    busy = {("device", 20): [(at(DAY, 9), at(DAY, 12))]}
    assert find_slots(calendar(busy), REQUEST, limit=1)[0].devices == (21,)


def test_the_buffer_keeps_back_to_back_bookings_apart():
    busy = {("room", 10): [(at(DAY, 10, 15), at(DAY, 11))]}
    starts = [s.start for s in find_slots(calendar(busy), REQUEST, limit=3)]
    assert at(DAY, 9, 15) not in starts  # 9:15 + 60 + 15 would reach 10:30
    assert starts[0] == at(DAY, 9)
    assert starts[1] == at(DAY, 11)


def test_no_slot_when_a_needed_device_type_is_missing():
    request = SlotRequest(
        duration=timedelta(minutes=30), buffer=timedelta(0), practitioners=(1,), device_types=("laser",)
    )
    assert find_slots(calendar(), request) == []


def test_slots_across_practitioners_come_earliest_first():
    busy = {("practitioner", 1): [(at(DAY, 9), at(DAY, 11))]}
    request = SlotRequest(duration=timedelta(minutes=60), buffer=timedelta(0), practitioners=(1, 2))
    slots = find_slots(calendar(busy), request, limit=3)
    assert [(s.practitioner, s.start) for s in slots][:1] == [(2, at(DAY, 9))]
    assert [s.start for s in slots] == sorted(s.start for s in slots)


def test_not_before_is_respected_and_aligned_to_the_quarter_hour():
    request = SlotRequest(
        duration=timedelta(minutes=30), buffer=timedelta(0), practitioners=(1,), not_before=at(DAY, 9, 7)
    )
    assert find_slots(calendar(), request, limit=1)[0].start == at(DAY, 9, 15)


def test_interval_helpers():
    windows = [(at(DAY, 9), at(DAY, 17))]
    assert subtract(windows, [(at(DAY, 12), at(DAY, 13))]) == [
        (at(DAY, 9), at(DAY, 12)),
        (at(DAY, 13), at(DAY, 17)),
    ]
    assert intersect(windows, [(at(DAY, 8), at(DAY, 10)), (at(DAY, 16), at(DAY, 18))]) == [
        (at(DAY, 9), at(DAY, 10)),
        (at(DAY, 16), at(DAY, 17)),
    ]
    busy = [(at(DAY, 10), at(DAY, 11))]
    assert overlaps(busy, at(DAY, 10, 30), at(DAY, 12))
    assert not overlaps(busy, at(DAY, 11), at(DAY, 12))
    assert not overlaps(busy, at(DAY, 9), at(DAY, 10))


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 8), 8), (date(2026, 11, 1), 8), (date(2026, 3, 9), 8)],
)
def test_working_hours_stay_wall_clock_hours_across_daylight_saving_changes(day, hours):
    start, end = local_window(day, time(9), time(17), "America/New_York")
    assert (start.astimezone(NY).hour, end.astimezone(NY).hour) == (9, 17)
    assert end - start == timedelta(hours=hours)


def test_a_window_spanning_the_dst_jump_has_one_hour_less_of_real_time():
    start, end = local_window(date(2026, 3, 8), time(0), time(5), "America/New_York")
    assert end - start == timedelta(hours=4)


def test_day_windows_follow_weekly_hours():
    hours = {0: [(time(9), time(12)), (time(13), time(17))]}  # Mondays only
    windows = day_windows([date(2026, 11, 30), date(2026, 12, 1)], hours, NY)
    assert [(s.astimezone(NY).hour, e.astimezone(NY).hour) for s, e in windows] == [(9, 12), (13, 17)]


def _search_factory(free_days, practitioner_days=None):
    def search(first_day, last_day, practitioner, placed=()):
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            if day in free_days:
                who = practitioner or 2
                allowed = free_days if practitioner_days is None else practitioner_days
                if practitioner is not None and day not in allowed:
                    continue
                return Slot(at(day, 9), at(day, 10), who, None, ())
        return None

    return search


def test_plan_dates_follow_the_intervals_and_keep_the_practitioner():
    visits = [
        PlannedVisit(date(2026, 12, 1), date(2026, 12, 1)),
        PlannedVisit(date(2026, 12, 29), date(2027, 1, 26), min_gap_days=14, max_gap_days=56),
    ]
    free = {date(2026, 12, 1), date(2026, 12, 29)}
    slots, problem = propose_dates(visits, _search_factory(free), preferred=1)
    assert problem is None
    assert [s.start.date() for s in slots] == [date(2026, 12, 1), date(2026, 12, 29)]
    assert {s.practitioner for s in slots} == {1}


def test_plan_dates_fall_back_to_another_practitioner():
    visits = [PlannedVisit(date(2026, 12, 1), date(2026, 12, 3))]
    slots, problem = propose_dates(
        visits, _search_factory({date(2026, 12, 2)}, practitioner_days=set()), preferred=1
    )
    assert problem is None and slots[0].practitioner == 2


def test_plan_dates_report_a_session_that_cannot_be_placed():
    visits = [
        PlannedVisit(date(2026, 12, 1), date(2026, 12, 1)),
        PlannedVisit(date(2026, 12, 29), date(2027, 1, 5), min_gap_days=28, max_gap_days=35),
    ]
    slots, problem = propose_dates(visits, _search_factory({date(2026, 12, 1)}))
    assert len(slots) == 1
    assert "session 2" in problem


@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 40), st.integers(1, 12)), max_size=25),
    st.permutations([1, 2, 3, 4]),
    st.integers(1, 30),
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_the_earliest_slots_are_those_of_an_unbounded_search(bookings, order, limit):
    """The search stops trying a practitioner's later times once `limit` earlier ones are found
    across practitioners: the answer is still the first `limit` of everything free."""
    busy = {}
    for practitioner, quarter, length in bookings:
        start = at(DAY, 8) + timedelta(minutes=15 * quarter)
        busy.setdefault(("practitioner", practitioner), []).append(
            (start, start + timedelta(minutes=15 * length))
        )
    chain = Calendar(
        windows={
            p: [(at(DAY, 8), at(DAY, 18)), (at(DAY + timedelta(days=1), 8), at(DAY + timedelta(days=1), 18))]
            for p in order
        },
        busy={key: sorted(value) for key, value in busy.items()},
        rooms={"treatment_room": [10, 11, 12]},
        devices={"microneedling_pen": [20, 21, 22]},
    )
    request = replace(REQUEST, practitioners=tuple(order), patient=None)
    everything = find_slots(chain, request, limit=10_000)
    assert find_slots(chain, request, limit=limit) == everything[:limit]
