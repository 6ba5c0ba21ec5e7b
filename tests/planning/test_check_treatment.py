"""The booking recheck: may this treatment be done on these areas on `today`?"""

from datetime import date

import pytest

from tests.planning.builder import catalog, profile, rule
from treatments.engine.plan_results import OptionStatus
from treatments.engine.planning import check_treatment

RULES = [
    rule("keloid", "mnf", "absolute"),
    rule("acne", "mn", "absolute", until_resolved=True, area=True),
    rule("toxin", "peels", "absolute", "after_event", 14),
    rule("anticoagulant", "mn", "relative"),
    rule("cold_sore", "mn", "precaution"),
]


@pytest.mark.parametrize(
    ("conditions", "treatment", "areas", "status", "earliest"),
    [
        ([], "mn", ["cheeks"], "ok", None),
        ([("keloid",)], "mn_prp", ["forehead"], "excluded", None),
        ([("acne", ["chin_jaw"], "2026-11-01")], "mn", ["chin_jaw"], "deferred", None),
        ([("acne", ["chin_jaw"], "2026-11-01")], "mn", ["forehead"], "ok", None),
        ([("acne", ["chin_jaw"], "2026-11-01")], "mn", ["face"], "deferred", None),
        ([("toxin", [], "2026-11-20")], "peel_sal", ["cheeks"], "deferred", "2026-12-04"),
        ([("toxin", [], "2026-11-08")], "peel_sal", ["cheeks"], "ok", None),  # window ends today
        ([("anticoagulant",)], "mn", ["cheeks"], "needs_clearance", None),
        ([("cold_sore",)], "mn", ["cheeks"], "ok", None),
    ],
)
def test_check_treatment(conditions, treatment, areas, status, earliest):
    verdict = check_treatment(profile(conditions=conditions), catalog(RULES), treatment, areas)
    assert verdict.status == OptionStatus(status)
    assert verdict.earliest_start == (date.fromisoformat(earliest) if earliest else None)
    assert bool(verdict.reasons) == (status != "ok")


def test_a_clearance_lets_a_relative_contraindication_through():
    cleared = [{"treatment": "mn", "condition": "anticoagulant", "reason": "prescriber agreed", "by": "dr"}]
    verdict = check_treatment(
        profile(conditions=[("anticoagulant",)], cleared=cleared), catalog(RULES), "mn", ["cheeks"]
    )
    assert verdict.status == OptionStatus.OK


def test_skin_type_rules_are_skipped_when_the_type_is_unknown():
    data = profile(fitzpatrick=6)
    assert check_treatment(data, catalog(), "peel_tca_medium", ["cheeks"]).status == OptionStatus.EXCLUDED
    data["patient"]["fitzpatrick"] = None
    assert check_treatment(data, catalog(), "peel_tca_medium", ["cheeks"]).status == OptionStatus.OK
