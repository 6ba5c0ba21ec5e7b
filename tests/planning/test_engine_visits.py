from datetime import date

from tests.planning.builder import catalog, plan_json, profile, protocol
from treatments.engine import planning
from treatments.engine.plan_results import IntervalDays, Series

GAP = {"from": "peels", "to": "mnf", "min_days": 14, "recommended_days": 14}


def series(treatment, areas, start="2026-11-22", sessions=3, typical=28, maximum=42):
    return Series(
        treatment=treatment,
        areas=tuple(areas),
        sessions=sessions,
        interval_days=IntervalDays(min=14, typical=typical, max=maximum),
        earliest_start=date.fromisoformat(start),
    )


def layout_visits(series, catalog, *, today):
    """The visits in the JSON of plan-api.md."""
    laid_out = planning.layout_visits(series, catalog, today=date.fromisoformat(today))
    return [visit.to_json() for visit in laid_out]


def test_a_series_is_laid_out_at_its_typical_interval_within_its_maximum():
    visits = layout_visits([series("mn", ["cheeks"])], catalog(), today="2026-11-22")
    assert [(v["earliest"], v["latest"]) for v in visits] == [
        ("2026-11-22", "2026-11-22"),
        ("2026-12-20", "2027-01-03"),
        ("2027-01-17", "2027-01-31"),
    ]
    assert [v["procedures"][0]["session"] for v in visits] == [1, 2, 3]


def test_different_areas_share_a_visit():
    visits = layout_visits(
        [series("mn", ["cheeks"]), series("peel_sal", ["chin_jaw"])], catalog(), today="2026-11-22"
    )
    assert {p["treatment"] for p in visits[0]["procedures"]} == {"mn", "peel_sal"}


def test_a_peel_then_microneedling_on_the_same_area_keeps_the_catalog_gap():
    visits = layout_visits(
        [series("peel_sal", ["cheeks"], sessions=1), series("mn", ["cheek_left"], sessions=1)],
        catalog(gaps=[GAP]),
        today="2026-11-22",
    )
    assert [(v["earliest"], v["procedures"][0]["treatment"]) for v in visits] == [
        ("2026-11-22", "peel_sal"),
        ("2026-12-06", "mn"),
    ]


def test_the_gap_does_not_apply_to_different_areas():
    visits = layout_visits(
        [series("peel_sal", ["forehead"], sessions=1), series("mn", ["cheeks"], sessions=1)],
        catalog(gaps=[GAP]),
        today="2026-11-22",
    )
    assert len(visits) == 1


def test_a_deferred_series_starts_on_its_earliest_date():
    visits = layout_visits(
        [series("mn", ["cheeks"], start="2027-02-20", sessions=1)], catalog(), today="2026-11-22"
    )
    assert visits[0]["earliest"] == "2027-02-20"


def test_suggested_visits_use_the_first_schedulable_option():
    plan = plan_json(profile(), catalog(protocols=[protocol("mn", evidence="A"), protocol("peel_sal")]))
    assert plan["visits"][0]["procedures"] == [{"treatment": "mn", "areas": ["cheeks"], "session": 1}]
    assert len(plan["visits"]) == 3
