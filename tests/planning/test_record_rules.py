from pathlib import Path

import yaml

from treatments.engine.record_rules import (
    FieldKind,
    FieldLink,
    RecordFieldSpec,
    out_of_range,
    record_fields,
    unconfirmed,
)

LIMITS = {
    "needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}, "forehead": {"min": 0.5, "max": 0.75}},
    "peel": {"agent": "salicylic", "concentration_pct": {"min": 20, "max": 30}},
}
DEPTH = RecordFieldSpec(
    key="needle_depth_mm",
    label="Needle depth",
    kind=FieldKind.DECIMAL,
    unit="mm",
    linked_to=FieldLink.NEEDLE_DEPTH,
)
STRENGTH = RecordFieldSpec(
    key="concentration_pct",
    label="Concentration",
    kind=FieldKind.DECIMAL,
    unit="%",
    linked_to=FieldLink.PEEL_CONCENTRATION,
)
PASSES = RecordFieldSpec(key="passes", label="Passes", kind=FieldKind.INTEGER, min=1, max=12)
FIELDS = (DEPTH, STRENGTH, PASSES)
ROOT = Path(__file__).resolve().parents[2]


def test_values_inside_the_ranges_need_nothing():
    assert out_of_range({"needle_depth_mm": {"cheeks": 2.0, "forehead": 0.5}}, LIMITS, fields=FIELDS) == []


def test_a_depth_above_the_areas_maximum_is_reported_with_the_area():
    problems = out_of_range(
        {"needle_depth_mm": {"cheeks": 2.5, "forehead": 0.5}},
        LIMITS,
        fields=FIELDS,
        area_names={"cheeks": "Cheeks"},
    )
    assert [(p.key, p.message) for p in problems] == [
        ("needle_depth_mm.cheeks", "Needle depth on Cheeks 2.5 mm is above the safe maximum of 2 mm.")
    ]


def test_peel_strength_below_the_range_and_unknown_areas_are_ignored():
    problems = out_of_range({"concentration_pct": 10, "needle_depth_mm": {"scalp": 9}}, LIMITS, fields=FIELDS)
    assert [p.key for p in problems] == ["concentration_pct"]


def test_a_reason_confirms_a_problem():
    problems = out_of_range({"needle_depth_mm": {"cheeks": 2.5, "forehead": 1.0}}, LIMITS, fields=FIELDS)
    left = unconfirmed(problems, {"needle_depth_mm.cheeks": "Deep boxcar scars, agreed with patient"})
    assert [p.key for p in left] == ["needle_depth_mm.forehead"]
    assert unconfirmed(problems, {"needle_depth_mm.cheeks": "  "})[0].key == "needle_depth_mm.cheeks"


def test_a_fields_own_safe_range_asks_for_a_reason_only_when_the_catalog_sets_one():
    assert out_of_range({"passes": 9}, LIMITS, fields=FIELDS) == []
    cautious = RecordFieldSpec(key="passes", label="Passes", kind=FieldKind.INTEGER, safe_max=6)
    [problem] = out_of_range({"passes": 9}, LIMITS, fields=(cautious,))
    assert (problem.key, problem.message) == ("passes", "Passes 9 is above the safe maximum of 6.")


def test_the_protocols_range_comes_before_the_fields_own():
    depth = RecordFieldSpec(
        key="needle_depth_mm",
        label="Needle depth",
        kind=FieldKind.DECIMAL,
        unit="mm",
        linked_to=FieldLink.NEEDLE_DEPTH,
        safe_max=1.0,
    )
    values = {"needle_depth_mm": {"cheeks": 1.8, "nose": 1.8}}
    assert [p.key for p in out_of_range(values, LIMITS, fields=(depth,))] == ["needle_depth_mm.nose"]


def _catalog(*rows):
    groups = [{"slug": "family", "members": ["mn", "mn_prp"]}]
    return {
        "groups": groups,
        "treatments": [{"slug": "mn"}, {"slug": "mn_prp", "components": ["mn"]}],
        "record_fields": list(rows),
    }


def test_a_treatments_own_row_wins_over_its_groups_and_combinations_do_not_inherit_from_parts():
    catalog = _catalog(
        {"key": "passes", "label": "Passes", "kind": "integer", "applies_to": "family", "order": 2},
        {"key": "passes", "label": "Passes (PRP)", "kind": "integer", "applies_to": "mn_prp", "order": 2},
        {"key": "serums", "label": "Serums", "kind": "text", "applies_to": "mn", "order": 1},
    )
    assert [(f.key, f.label) for f in record_fields(catalog, "mn")] == [
        ("serums", "Serums"),
        ("passes", "Passes"),
    ]
    assert [(f.key, f.label) for f in record_fields(catalog, "mn_prp")] == [("passes", "Passes (PRP)")]


def test_the_seed_catalog_asks_each_treatment_for_its_fields_in_order():
    seed = {}
    for path in ("patients/seed/vocabulary.yaml", "treatments/seed/catalog.yaml"):
        seed.update(yaml.safe_load((ROOT / path).read_text()))

    def keys(treatment):
        return [f.key for f in record_fields(seed, treatment)]

    needling = ["device", "needle_lot", "needle_expiry", "needle_depth_mm", "passes", "endpoint"]
    prp = ["blood_volume_ml", "centrifuge_protocol", "prp_volume_ml", "prp_application"]
    anaesthetic = ["anaesthetic_product", "anaesthetic_minutes"]
    grades = ["pain_score", "erythema_grade", "oedema_grade"]
    assert keys("mn") == [*needling, *anaesthetic, "serums", *grades]
    assert keys("mn_prp") == [*needling, *prp, *anaesthetic, *grades]
    assert keys("mn_ha") == keys("mn_gf") == [*needling, "serums", *anaesthetic, *grades]
    assert keys("mn_scalp") == [*needling, "pain_score"]
    assert keys("prp_face") == keys("prp_scalp") == [*prp, "pain_score"]
    peel = ["agent", "concentration_pct", "ph", "layers", "contact_time_min", "frost_level", "neutralised"]
    assert keys("peel_tca_medium") == keys("peel_glycolic") == [*peel, "pain_score", "erythema_grade"]
