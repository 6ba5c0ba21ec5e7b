from treatments.engine.record_rules import out_of_range, unconfirmed

LIMITS = {
    "needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}, "forehead": {"min": 0.5, "max": 0.75}},
    "peel": {"agent": "salicylic", "concentration_pct": {"min": 20, "max": 30}},
}


def test_values_inside_the_ranges_need_nothing():
    assert out_of_range({"needle_depth_mm": {"cheeks": 2.0, "forehead": 0.5}}, LIMITS) == []


def test_a_depth_above_the_areas_maximum_is_reported_with_the_area():
    problems = out_of_range(
        {"needle_depth_mm": {"cheeks": 2.5, "forehead": 0.5}}, LIMITS, area_names={"cheeks": "Cheeks"}
    )
    assert [(p.key, p.message) for p in problems] == [
        ("needle_depth_mm.cheeks", "Needle depth on Cheeks 2.5 mm is above the safe maximum of 2 mm.")
    ]


def test_peel_strength_below_the_range_and_unknown_areas_are_ignored():
    problems = out_of_range({"concentration_pct": 10, "needle_depth_mm": {"scalp": 9}}, LIMITS)
    assert [p.key for p in problems] == ["concentration_pct"]


def test_a_reason_confirms_a_problem():
    problems = out_of_range({"needle_depth_mm": {"cheeks": 2.5, "forehead": 1.0}}, LIMITS)
    left = unconfirmed(problems, {"needle_depth_mm.cheeks": "Deep boxcar scars, agreed with patient"})
    assert [p.key for p in left] == ["needle_depth_mm.forehead"]
    assert unconfirmed(problems, {"needle_depth_mm.cheeks": "  "})[0].key == "needle_depth_mm.cheeks"
