"""The day grid shows what cannot be booked as closed (outside the practitioner's working hours or
the location's opening hours, a closure, time off) and marks a session's clean-up time apart from
its treatment time."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import PatientFactory
from tests.scheduling.helpers import at, book, make_clinic, next_monday
from treatments.engine.calendar_grid import Placed, build_grid
from treatments.models import Closure, TimeOff

START = datetime(2027, 1, 4, 14, tzinfo=UTC)
STEP = timedelta(minutes=15)


def t(minutes):
    return START + timedelta(minutes=minutes)


# The pure layout


def test_cells_outside_a_columns_open_hours_are_closed():
    rows, _ = build_grid(START, t(60), STEP, ["a", "b"], [], open_hours={"a": [(t(15), t(45))]})
    closed = [[cell["closed"] for cell in row["cells"]] for row in rows]
    # "a" is open from 15 to 45 minutes; "b", left out of open_hours, is closed all day.
    assert closed == [[True, True], [False, True], [False, True], [True, True]]


def test_a_cell_only_partly_inside_the_hours_is_closed():
    rows, _ = build_grid(START, t(30), STEP, ["a"], [], open_hours={"a": [(t(5), t(30))]})
    assert [row["cells"][0]["closed"] for row in rows] == [True, False]


def test_without_open_hours_every_empty_cell_is_open():
    rows, _ = build_grid(START, t(30), STEP, ["a"], [])
    assert not any(cell["closed"] for row in rows for cell in row["cells"])


def test_the_clean_up_gets_its_own_cell_under_the_treatment():
    session = Placed("a", t(0), t(75), "s1", work_end=t(60))
    rows, overflow = build_grid(START, t(120), STEP, ["a"], [session])
    assert not overflow
    assert rows[0]["cells"][0] == {"item": "s1", "rowspan": 4, "column": "a"}
    assert rows[4]["cells"][0] == {"item": None, "cleanup": "s1", "rowspan": 1, "until": t(75), "column": "a"}
    assert [len(row["cells"]) for row in rows] == [1, 0, 0, 0, 1, 1, 1, 1]


def test_a_clean_up_inside_the_last_row_is_a_note_on_the_session():
    session = Placed("a", t(0), t(60), "s1", work_end=t(50))
    rows, _ = build_grid(START, t(60), STEP, ["a"], [session])
    assert rows[0]["cells"][0] == {"item": "s1", "rowspan": 4, "column": "a", "cleanup_until": t(60)}
    assert not any("cleanup" in cell for row in rows for cell in row["cells"])


def test_a_clean_up_running_past_the_grid_is_cut_and_still_marked():
    session = Placed("a", t(15), t(90), "late", work_end=t(45))
    rows, _ = build_grid(START, t(60), STEP, ["a"], [session])
    assert rows[1]["cells"][0]["rowspan"] == 2
    assert rows[3]["cells"][0]["cleanup"] == "late" and rows[3]["cells"][0]["rowspan"] == 1


def test_a_session_over_another_ones_clean_up_overflows():
    first = Placed("a", t(0), t(75), "first", work_end=t(60))
    second = Placed("a", t(60), t(90), "second", work_end=t(90))
    _, overflow = build_grid(START, t(120), STEP, ["a"], [first, second])
    assert [p.item for p in overflow] == ["second"]


# The day page


@pytest.fixture
def clinic(db):
    """Open 9 to 18 Monday to Saturday; the practitioner works 10 to 16 Monday to Friday."""
    return make_clinic(rooms=2, starts=10, ends=16)


def cells(response):
    return {
        (cell["column"], cell["time"]): cell
        for row in response.context["rows"]
        for cell in row["cells"]
        if cell["item"] is None and "cleanup" not in cell
    }


def day_page(client, day, **params):
    return client.get(reverse("treatments:calendar_day"), {"date": day.isoformat(), **params})


@pytest.mark.django_db
def test_outside_working_hours_the_cells_are_closed_with_no_link(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    response = day_page(front_desk_client, day)
    grid = cells(response)
    assert grid[(doctor.pk, "09:00")]["closed"] and "book" not in grid[(doctor.pk, "09:00")]
    assert grid[(doctor.pk, "16:00")]["closed"] and "book" not in grid[(doctor.pk, "16:00")]
    assert not grid[(doctor.pk, "10:00")]["closed"] and "book" in grid[(doctor.pk, "10:00")]
    assert not grid[(doctor.pk, "15:45")]["closed"]
    html = response.content.decode()
    assert '<td class="calendar-closed" title="Closed"><span class="visually-hidden">09:00 closed for' in html
    # a closed cell is no drop target: it is not a free cell and carries no slot
    assert 'data-time="09:00"' not in html and 'data-time="10:00"' in html


@pytest.mark.django_db
def test_by_room_the_cells_outside_opening_hours_are_closed(front_desk_client, clinic):
    location, doctor = clinic
    day = next_monday()
    # a session before opening stretches the grid to 8:00
    factories.make_session(practitioner=doctor, start=at(day, 8))
    response = day_page(front_desk_client, day, by="room")
    room = location.rooms.order_by("name").last()
    grid = cells(response)
    assert grid[(room.pk, "08:00")]["closed"]
    assert not grid[(room.pk, "09:00")]["closed"] and "book" in grid[(room.pk, "09:00")]
    assert not grid[(room.pk, "17:45")]["closed"]
    assert f'data-time="09:00" data-room="{room.pk}"' in response.content.decode()


@pytest.mark.django_db
def test_a_closure_or_time_off_closes_the_cells(front_desk_client, clinic):
    location, doctor = clinic
    day = next_monday()
    TimeOff.objects.create(practitioner=doctor, starts_at=at(day, 12), ends_at=at(day, 13), reason="Dentist")
    grid = cells(day_page(front_desk_client, day))
    assert grid[(doctor.pk, "12:00")]["closed"] and grid[(doctor.pk, "12:45")]["closed"]
    assert not grid[(doctor.pk, "11:45")]["closed"] and not grid[(doctor.pk, "13:00")]["closed"]

    Closure.objects.create(location=location, first_day=day, last_day=day, reason="Inventory")
    closed = cells(day_page(front_desk_client, day))
    assert closed and all(cell["closed"] and "book" not in cell for cell in closed.values())


@pytest.mark.django_db
def test_a_sessions_clean_up_is_marked_under_it(front_desk_client, clinic):
    _, doctor = clinic
    day = next_monday()
    book(doctor, at(day, 10), PatientFactory(first_name="Cleo", last_name="Cleanup"))
    html = day_page(front_desk_client, day).content.decode()
    assert '<td rowspan="4" class="calendar-session status-booked"' in html  # 10:00 to 11:00
    assert '<td rowspan="1" class="calendar-cleanup status-booked"' in html
    assert "Clean-up until 11:15" in html
    # the clean-up rows are neither free nor bookable
    assert 'data-time="11:00"' not in html and 'data-time="11:15"' in html
