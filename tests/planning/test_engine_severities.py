import pytest

from tests.planning.builder import catalog, excluded, options, plan_json, profile, protocol, rule


@pytest.mark.parametrize(
    ("severity", "until_resolved", "status"),
    [
        ("absolute", False, "excluded"),
        ("absolute", True, "deferred"),
        ("relative", False, "needs_clearance"),
        ("relative", True, "deferred"),
        ("precaution", False, "ok"),
    ],
)
def test_each_severity_sets_the_status(severity, until_resolved, status):
    cat = catalog([rule("acne", "mn", severity, until_resolved=until_resolved)])
    plan = plan_json(profile(conditions=[("acne",)]), cat)
    if status == "excluded":
        assert not options(plan, "mn")
        assert excluded(plan, "mn")[0]["reasons"] == [
            {"code": "acne", "severity": "absolute", "text": "acne rule"}
        ]
    else:
        option = options(plan, "mn")[0]
        assert option["status"] == status
        assert option["flags"][0]["code"] == "acne"


def test_deferral_until_resolved_has_no_start_date():
    plan = plan_json(
        profile(conditions=[("acne",)]), catalog([rule("acne", "mn", "absolute", until_resolved=True)])
    )
    option = options(plan, "mn")[0]
    assert (option["earliest_start"], option["until_resolved"]) == (None, ["acne"])


def test_a_resolved_condition_no_longer_blocks():
    cat = catalog([rule("acne", "mn", "absolute", until_resolved=True)])
    plan = plan_json(profile(conditions=[("acne", [], "2026-01-01", "2026-06-01")]), cat)
    assert options(plan, "mn")[0]["status"] == "ok"


def test_a_clearance_lifts_a_relative_rule_and_says_who_cleared_it():
    cat = catalog([rule("anticoagulant", "mn", "relative")])
    cleared = [
        {"treatment": "mn", "condition": "anticoagulant", "reason": "prescriber agreed", "by": "dr.lee"}
    ]
    option = options(plan_json(profile(conditions=[("anticoagulant",)], cleared=cleared), cat), "mn")[0]
    assert option["status"] == "ok"
    assert "Cleared by dr.lee: prescriber agreed" in option["flags"][0]["text"]


def test_a_clearance_does_not_lift_an_absolute_rule():
    cat = catalog([rule("keloid", "mn", "absolute")])
    cleared = [{"treatment": "mn", "condition": "keloid", "reason": "asked", "by": "x"}]
    assert not options(plan_json(profile(conditions=[("keloid",)], cleared=cleared), cat), "mn")


def test_combinations_carry_the_rules_of_their_components_and_groups():
    cat = catalog([rule("anticoagulant", "prp_face", "relative"), rule("keloid", "mnf", "absolute")])
    plan = plan_json(profile(conditions=[("anticoagulant",)]), cat)
    assert options(plan, "mn_prp")[0]["status"] == "needs_clearance"
    assert options(plan, "mn")[0]["status"] == "ok"
    plan = plan_json(profile(conditions=[("keloid",)]), cat)
    assert {e["treatment"] for e in excluded(plan)} == {"mn", "mn_prp"}


def test_the_strictest_rule_decides_and_every_reason_is_reported():
    cat = catalog([rule("keloid", "mn", "absolute"), rule("smoking", "mnf", "relative")])
    plan = plan_json(profile(conditions=[("keloid",), ("smoking",)]), cat)
    assert {r["code"] for r in excluded(plan, "mn")[0]["reasons"]} == {"keloid", "smoking"}


@pytest.mark.parametrize(("skin_type", "offered"), [(4, True), (5, False)])
def test_protocol_skin_types(skin_type, offered):
    plan = plan_json(profile(fitzpatrick=skin_type), catalog())
    assert bool(options(plan, "peel_tca_medium")) is offered
    if not offered:
        assert excluded(plan, "peel_tca_medium")[0]["reasons"][0]["code"] == "fitzpatrick"


@pytest.mark.parametrize(("skin_type", "status"), [(3, "ok"), (4, "needs_clearance"), (6, "needs_clearance")])
def test_patient_rules_on_skin_type(skin_type, status):
    cat = catalog(
        patient_rules=[
            {
                "applies_to": "peel_sal",
                "fact": "fitzpatrick",
                "min": 4,
                "max": 6,
                "severity": "relative",
                "text": "dark",
            }
        ]
    )
    assert options(plan_json(profile(fitzpatrick=skin_type), cat), "peel_sal")[0]["status"] == status


@pytest.mark.parametrize(("birth_date", "status"), [("2008-11-23", "needs_clearance"), ("2008-11-22", "ok")])
def test_age_rules_count_birthdays(birth_date, status):
    cat = catalog(
        patient_rules=[
            {
                "applies_to": "mnf",
                "fact": "age",
                "min": None,
                "max": 17,
                "severity": "relative",
                "text": "minor",
            }
        ]
    )
    assert options(plan_json(profile(birth_date=birth_date), cat), "mn")[0]["status"] == status


def test_a_concern_with_no_protocol_says_what_to_do():
    plan = plan_json(profile(concerns=[{"concern": "hair", "areas": ["scalp"]}]), catalog())
    item = plan["items"][0]
    assert item["options"] == [] and item["notes"] == ["Refer to a dermatologist."]


def test_when_everything_is_excluded_a_physician_must_review():
    cat = catalog([rule("pregnancy", "mnf", "absolute"), rule("pregnancy", "peels", "absolute")])
    item = plan_json(profile(conditions=[("pregnancy",)]), cat)["items"][0]
    assert item["options"] == []
    assert "a physician must review" in item["notes"][0]


def test_options_are_ranked_by_evidence_weight_and_preferred_skin_type():
    ranked = [o["treatment"] for o in options(plan_json(profile(), catalog()))]
    assert ranked == ["mn_prp", "mn", "peel_tca_medium", "peel_sal"]
    preferred = catalog(
        protocols=[
            protocol("peel_sal", evidence="B", preferred=[5, 6]),
            protocol("peel_tca_medium", evidence="B", weight=0.2),
        ]
    )
    assert [o["treatment"] for o in options(plan_json(profile(fitzpatrick=5), preferred))] == [
        "peel_sal",
        "peel_tca_medium",
    ]
    assert [o["treatment"] for o in options(plan_json(profile(fitzpatrick=2), preferred))] == [
        "peel_tca_medium",
        "peel_sal",
    ]
