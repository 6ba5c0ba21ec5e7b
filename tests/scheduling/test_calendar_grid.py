from datetime import UTC, date, datetime, timedelta

from treatments.engine.calendar_grid import Placed, build_grid, week_days

START = datetime(2027, 1, 4, 14, tzinfo=UTC)
STEP = timedelta(minutes=15)


def t(minutes):
    return START + timedelta(minutes=minutes)


def test_a_session_spans_its_rows_and_the_covered_cells_are_left_out():
    rows, overflow = build_grid(START, t(120), STEP, ["a", "b"], [Placed("a", t(15), t(90), "s1")])
    assert len(rows) == 8 and not overflow
    assert rows[1]["cells"][0] == {"item": "s1", "rowspan": 5, "column": "a"}
    assert [len(row["cells"]) for row in rows] == [2, 2, 1, 1, 1, 1, 2, 2]
    assert rows[2]["cells"][0]["column"] == "b"


def test_overlapping_or_outside_sessions_go_to_overflow():
    sessions = [
        Placed("a", t(0), t(60), "first"),
        Placed("a", t(30), t(60), "overlap"),
        Placed("a", t(-30), t(0), "before"),
        Placed("zzz", t(0), t(15), "unknown column"),
    ]
    rows, overflow = build_grid(START, t(60), STEP, ["a"], sessions)
    assert rows[0]["cells"][0]["item"] == "first"
    assert sorted(s.item for s in overflow) == ["before", "overlap", "unknown column"]


def test_a_session_running_past_the_end_is_cut_at_the_last_row():
    rows, _ = build_grid(START, t(60), STEP, ["a"], [Placed("a", t(45), t(120), "late")])
    assert rows[3]["cells"][0]["rowspan"] == 1


def test_week_runs_monday_to_sunday():
    days = week_days(date(2027, 1, 7))
    assert days[0] == date(2027, 1, 4) and days[-1] == date(2027, 1, 10)
