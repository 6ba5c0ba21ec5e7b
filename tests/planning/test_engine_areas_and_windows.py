import pytest

from tests.planning.builder import catalog, excluded, options, plan_json, profile, rule

ACNE_ON = rule("acne", "mnf", "absolute", until_resolved=True, area=True)


@pytest.mark.parametrize(
    ("condition_area", "concern_areas", "blocked"),
    [
        ("cheek_left", ["cheek_right"], False),
        ("cheek_left", ["cheek_left"], True),
        ("cheek_left", ["cheeks"], "partly"),
        ("cheeks", ["cheek_left"], True),
        ("forehead", ["cheeks"], False),
        ("face", ["forehead"], True),
        ("forehead", ["face"], "partly"),
        ("neck", ["face"], False),
    ],
)
def test_area_limited_rules_block_only_overlapping_areas(condition_area, concern_areas, blocked):
    concerns = [{"concern": "scars", "areas": concern_areas}]
    plan = plan_json(profile(conditions=[("acne", [condition_area])], concerns=concerns), catalog([ACNE_ON]))
    by_status = {o["status"]: o["areas"] for o in options(plan, "mn")}
    if blocked is True:
        assert set(by_status) == {"deferred"}
    elif blocked is False:
        assert by_status == {"ok": concern_areas}
    else:
        assert condition_area not in by_status["ok"]
        assert by_status["deferred"] == [condition_area]


def test_the_rest_of_the_face_stays_treatable_around_a_blocked_chin():
    concerns = [{"concern": "scars", "areas": ["face"]}]
    plan = plan_json(profile(conditions=[("acne", ["chin_jaw"])], concerns=concerns), catalog([ACNE_ON]))
    ok = next(o for o in options(plan, "mn") if o["status"] == "ok")
    assert ok["areas"] == ["forehead", "cheeks"]


def test_a_record_without_areas_covers_the_whole_patient():
    plan = plan_json(profile(conditions=[("acne", [])]), catalog([ACNE_ON]))
    assert {o["status"] for o in options(plan, "mn")} == {"deferred"}


def test_spread_to_widens_a_small_lesion_to_the_whole_area():
    cold_sore = rule("cold_sore", "mnf", "absolute", until_resolved=True, area=True, spread_to="face")
    plan = plan_json(profile(conditions=[("cold_sore", ["chin_jaw"])]), catalog([cold_sore]))
    assert {o["status"] for o in options(plan, "mn")} == {"deferred"}


def test_an_area_the_protocol_does_not_cover_is_excluded_with_code_area():
    concerns = [{"concern": "scars", "areas": ["cheeks", "neck"]}]
    plan = plan_json(profile(concerns=concerns), catalog())
    assert options(plan, "mn")[0]["areas"] == ["cheeks"]
    assert excluded(plan, "mn")[0]["areas"] == ["neck"]
    assert excluded(plan, "mn")[0]["reasons"][0]["code"] == "area"


@pytest.mark.parametrize(
    ("today", "status", "earliest"),
    [("2026-11-30", "deferred", "2026-12-01"), ("2026-12-01", "ok", "2026-12-01")],
)
def test_an_event_window_expires_on_its_last_day(today, status, earliest):
    toxin = rule("toxin", "mnf", "relative", "after_event", 14, area=True)
    plan = plan_json(profile(today=today, conditions=[("toxin", ["cheeks"], "2026-11-17")]), catalog([toxin]))
    option = options(plan, "mn")[0]
    assert (option["status"], option["earliest_start"]) == (status, earliest)


@pytest.mark.parametrize(
    ("today", "status"),
    [("2027-02-19", "deferred"), ("2027-02-20", "ok")],
)
def test_a_window_after_a_medication_stops(today, status):
    rules = [
        rule("isotretinoin", "mnf", "absolute", until_resolved=True),
        rule("isotretinoin", "mnf", "relative", "after_end", 180),
    ]
    plan = plan_json(
        profile(today=today, conditions=[("isotretinoin", [], "2026-01-10", "2026-08-24")]), catalog(rules)
    )
    option = options(plan, "mn")[0]
    assert option["status"] == status
    if status == "deferred":
        assert option["earliest_start"] == "2027-02-20"


def test_while_a_medication_is_taken_only_its_end_can_lift_the_rule():
    rules = [
        rule("isotretinoin", "mnf", "absolute", until_resolved=True),
        rule("isotretinoin", "mnf", "relative", "after_end", 180),
    ]
    option = options(
        plan_json(profile(conditions=[("isotretinoin", [], "2026-01-10")]), catalog(rules)), "mn"
    )[0]
    assert (option["status"], option["earliest_start"], option["until_resolved"]) == (
        "deferred",
        None,
        ["isotretinoin"],
    )


def test_an_event_that_must_also_heal_waits_for_both():
    sunburn = rule("sunburn", "mnf", "absolute", "after_event", 14, until_resolved=True, area=True)
    healed = [("sunburn", ["cheeks"], "2026-11-01", "2026-11-05")]
    assert options(plan_json(profile(conditions=healed), catalog([sunburn])), "mn")[0]["status"] == "ok"
    unhealed = [("sunburn", ["cheeks"], "2026-11-01")]
    option = options(plan_json(profile(conditions=unhealed), catalog([sunburn])), "mn")[0]
    assert (option["status"], option["until_resolved"]) == ("deferred", ["sunburn"])


def test_settings_follow_the_most_specific_area():
    concerns = [{"concern": "scars", "areas": ["cheek_left", "forehead"]}]
    option = options(plan_json(profile(concerns=concerns), catalog()), "mn")[0]
    assert option["settings"]["needle_depth_mm"] == {
        "cheek_left": {"min": 1.5, "max": 2.0},
        "forehead": {"min": 0.5, "max": 0.75},
    }
