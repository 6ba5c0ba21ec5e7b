"""The engine's typed results: statuses and reasons as enums, JSON in the contract's shape both ways."""

import json
from datetime import date

import pytest

from tests.planning.builder import catalog, options, plan_json, profile, rule
from treatments.engine.plan_choices import (
    ACK_NEEDED,
    ItemChoice,
    PlanChoices,
    check_choice,
    chosen_plan,
    default_option_index,
    series_for,
)
from treatments.engine.plan_results import (
    IntervalDays,
    OptionStatus,
    Reason,
    Severity,
    Suggestion,
    TreatmentCheck,
)
from treatments.engine.planning import check_treatment, suggest_plan

RULES = [
    rule("toxin", "peels", "absolute", "after_event", 14),
    rule("anticoagulant", "mn", "relative"),
    rule("cold_sore", "mn", "precaution"),
]


def _suggestion(conditions=()):
    return suggest_plan(profile(conditions=conditions), catalog(RULES))


def _microneedling(suggestion):
    """(index, option) of plain microneedling, the option with needle depths, in the first item."""
    return next((i, o) for i, o in enumerate(suggestion.items[0].options) if o.treatment == "mn")


def test_a_suggestion_is_typed_and_reads_back_from_its_json():
    suggestion = _suggestion([("cold_sore",)])
    option = suggestion.items[0].options[0]
    assert option.status is OptionStatus.OK
    assert option.earliest_start == date(2026, 11, 22)
    assert option.flags == (Reason("cold_sore", Severity.PRECAUTION, "cold_sore rule"),)
    text = json.dumps(suggestion.to_json())
    assert Suggestion.from_json(json.loads(text)) == suggestion


def test_the_json_holds_plain_strings_and_iso_dates():
    plan = plan_json(profile(conditions=[("anticoagulant",)]), catalog(RULES))
    held = options(plan, "mn")[0]
    assert type(held["status"]) is str and held["status"] == "needs_clearance"
    assert type(held["flags"][0]["severity"]) is str
    assert held["earliest_start"] == "2026-11-22"
    assert plan["visits"][0]["earliest"] == "2026-11-22"


def test_a_treatment_check_reads_back_from_its_json():
    verdict = check_treatment(
        profile(conditions=[("toxin", [], "2026-11-20")]), catalog(RULES), "peel_sal", ["cheeks"]
    )
    assert verdict.status is OptionStatus.DEFERRED
    assert verdict.to_json()["earliest_start"] == "2026-12-04"
    assert TreatmentCheck.from_json(verdict.to_json()) == verdict


def test_a_condition_recorded_twice_one_open_one_dated_still_gives_a_plan():
    plan = _suggestion([("toxin", [], "2026-11-20"), ("toxin", [], None)])
    peel = next(o for o in plan.items[0].options if o.treatment == "peel_sal")
    assert peel.status is OptionStatus.DEFERRED
    assert (peel.earliest_start, peel.until_resolved) == (date(2026, 12, 4), ("toxin",))


def test_the_default_option_is_the_best_one_that_can_be_scheduled():
    item = _suggestion([("anticoagulant",)]).items[0]
    index = default_option_index(item.options)
    assert index is not None and item.options[index].schedulable
    assert all(o.status is OptionStatus.NEEDS_CLEARANCE for o in item.options[:index])


def test_a_precaution_must_be_acknowledged_and_a_held_option_cannot_be_chosen():
    _, held = _microneedling(_suggestion([("cold_sore",), ("anticoagulant",)]))
    assert held.status is OptionStatus.NEEDS_CLEARANCE
    assert check_choice(held, ItemChoice(option_index=0, acknowledged=True)) == [
        "mn cannot be chosen: it is needs clearance."
    ]
    _, flagged = _microneedling(_suggestion([("cold_sore",)]))
    assert check_choice(flagged, ItemChoice(option_index=0)) == [ACK_NEEDED.format(treatment="mn")]
    assert check_choice(flagged, ItemChoice(option_index=0, acknowledged=True)) == []


def test_a_depth_outside_the_protocol_needs_a_reason():
    _, option = _microneedling(_suggestion())
    too_deep = ItemChoice(option_index=0, depths={"cheeks": 2.5})
    assert check_choice(option, too_deep) == [
        "Give a reason: the needle depth on cheeks is outside the protocol's range (1.5-2.0)."
    ]
    assert check_choice(option, ItemChoice(option_index=0, depths={"cheeks": 2.5}, reason="deep scars")) == []


def test_a_chosen_interval_widens_the_series_range():
    _, option = _microneedling(_suggestion())
    series = series_for(option, ItemChoice(option_index=0, sessions=5, interval_days=60))
    assert (series.sessions, series.interval_days) == (5, IntervalDays(min=14, typical=60, max=60))


def test_the_chosen_plan_keeps_each_choice_and_lays_out_its_visits():
    suggestion = _suggestion()
    index, _ = _microneedling(suggestion)
    choices = [ItemChoice(option_index=index, sessions=4, depths={"cheeks": 1.8}, reason=" deep ")]
    chosen = chosen_plan(suggestion, choices, catalog(RULES))
    (item,) = chosen.items
    assert (item.concern, item.treatment, item.sessions, item.reason) == ("scars", "mn", 4, "deep")
    assert [p.session for v in chosen.visits for p in v.procedures] == [1, 2, 3, 4]
    stored = json.loads(json.dumps(chosen.to_json()))
    assert list(stored["items"][0]) == [
        "concern",
        "concern_areas",
        "treatment",
        "areas",
        "option",
        "sessions",
        "interval_days",
        "depths",
        "reason",
        "acknowledged_flags",
    ]
    assert PlanChoices.from_json(stored) == chosen


def test_no_option_for_an_item_leaves_it_out_and_choices_must_match_the_items():
    suggestion = _suggestion()
    assert chosen_plan(suggestion, [ItemChoice(option_index=None)], catalog(RULES)).items == ()
    with pytest.raises(ValueError):
        chosen_plan(suggestion, [], catalog(RULES))


def test_an_item_choice_reads_back_from_its_json():
    choice = ItemChoice(option_index=1, sessions=3, interval_days=30, depths={"cheeks": 1.5}, reason="r")
    assert ItemChoice.from_json(json.loads(json.dumps(choice.to_json()))) == choice
