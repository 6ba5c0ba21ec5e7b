"""The public examples of the plan issue, run on the real seed catalog (today = 2026-11-22)."""

from pathlib import Path

import pytest
import yaml

from tests.contract import ITEM_ADDED_KEYS, ITEM_KEYS, OPTION_ADDED_KEYS, OPTION_KEYS, VISIT_KEYS
from treatments.engine.planning import prepare_catalog, suggest_plan, validate_profile

ROOT = Path(__file__).resolve().parents[2]
MICRONEEDLING = {"mn", "mn_prp", "mn_ha", "mn_gf", "mn_scalp"}
SUPERFICIAL = {
    "peel_glycolic",
    "peel_lactic",
    "peel_mandelic",
    "peel_salicylic",
    "peel_jessner",
    "peel_tca_superficial",
}


@pytest.fixture(scope="module")
def seed():
    data = {}
    for path in ("patients/seed/vocabulary.yaml", "treatments/seed/catalog.yaml"):
        data.update(yaml.safe_load((ROOT / path).read_text()))
    return prepare_catalog(data)


def _plan(seed, *, fitzpatrick=2, concerns=None, conditions=()):
    profile = {
        "today": "2026-11-22",
        "patient": {"birth_date": "1998-05-01", "sex": "female", "fitzpatrick": fitzpatrick},
        "concerns": concerns
        or [{"concern": "acne_scars_atrophic", "areas": ["cheeks"], "severity": "moderate"}],
        "conditions": list(conditions),
    }
    assert validate_profile(profile, seed) == []
    return suggest_plan(profile, seed).to_json()


def test_1_microneedling_offered_now_for_cheek_scars(seed):
    item = _plan(seed)["items"][0]
    best = item["options"][0]
    assert best["treatment"] in {"mn", "mn_prp"}
    assert (best["status"], best["earliest_start"], best["areas"]) == ("ok", "2026-11-22", ["cheeks"])
    mn = next(o for o in item["options"] if o["treatment"] == "mn")
    assert (mn["sessions"]["min"], mn["sessions"]["max"]) == (3, 6)
    assert 28 <= mn["interval_days"]["typical"] <= 42
    depth = mn["settings"]["needle_depth_mm"]["cheeks"]
    assert 1.0 <= depth["min"] <= depth["max"] <= 2.5
    aftercare = " ".join(mn["aftercare"]).lower()
    assert (
        "spf" in aftercare
        and "no make-up until the next day" in aftercare
        and "no strenuous exercise" in aftercare
    )


def test_2_keloid_tendency_excludes_microneedling_and_says_what_next(seed):
    item = _plan(
        seed, conditions=[{"condition": "keloid_tendency", "areas": [], "since": None, "until": None}]
    )["items"][0]
    assert not {o["treatment"] for o in item["options"]} & MICRONEEDLING
    mn = next(e for e in item["excluded"] if e["treatment"] == "mn")
    assert any(r["code"] == "keloid_tendency" and "keloid" in r["text"].lower() for r in mn["reasons"])
    assert item["notes"] and "physician" in " ".join(item["notes"])


def test_3_isotretinoin_defers_microneedling_180_days_and_allows_a_superficial_peel(seed):
    conditions = [{"condition": "isotretinoin", "areas": [], "since": "2026-01-10", "until": "2026-08-24"}]
    item = _plan(seed, conditions=conditions)["items"][0]
    for option in (o for o in item["options"] if o["treatment"] in MICRONEEDLING):
        assert option["status"] == "deferred"
        assert option["earliest_start"] == "2027-02-20"
    peel = next(o for o in item["options"] if o["treatment"] in SUPERFICIAL and o["status"] == "ok")
    assert peel["earliest_start"] == "2026-11-22"
    assert any(f["code"] == "isotretinoin" and f["severity"] == "precaution" for f in peel["flags"])


def test_4_acne_on_the_chin_leaves_the_cheeks_treatable_and_is_itself_an_indication(seed):
    plan = _plan(
        seed,
        concerns=[
            {"concern": "acne_scars_atrophic", "areas": ["cheeks", "chin_jaw"], "severity": "moderate"},
            {"concern": "active_acne", "areas": ["chin_jaw"], "severity": "moderate"},
        ],
        conditions=[
            {"condition": "active_acne", "areas": ["chin_jaw"], "since": "2026-11-01", "until": None}
        ],
    )
    scars, acne = plan["items"]
    mn = [o for o in scars["options"] if o["treatment"] == "mn"]
    assert any(o["status"] == "ok" and o["areas"] == ["cheeks"] for o in mn)
    assert all(o["status"] != "ok" for o in mn if "chin_jaw" in o["areas"])
    assert acne["options"][0]["treatment"] == "peel_salicylic"
    assert acne["options"][0]["status"] == "ok"


def test_5_fitzpatrick_v_photodamage_gets_no_medium_tca_but_a_salicylic_peel(seed):
    item = _plan(
        seed, fitzpatrick=5, concerns=[{"concern": "photodamage", "areas": ["face"], "severity": "moderate"}]
    )["items"][0]
    medium = next(e for e in item["excluded"] if e["treatment"] == "peel_tca_medium")
    assert any(r["code"] == "fitzpatrick" for r in medium["reasons"])
    peels = [o for o in item["options"] if o["treatment"] in SUPERFICIAL]
    assert peels[0]["treatment"] == "peel_salicylic" and peels[0]["status"] == "ok"


def test_6_toxin_on_the_forehead_defers_forehead_treatment_only(seed):
    plan = _plan(
        seed,
        concerns=[{"concern": "fine_lines_wrinkles", "areas": ["forehead", "cheeks"], "severity": "mild"}],
        conditions=[
            {"condition": "botulinum_toxin", "areas": ["forehead"], "since": "2026-11-17", "until": None}
        ],
    )
    options = plan["items"][0]["options"]
    for option in options:
        if option["treatment"] in MICRONEEDLING | SUPERFICIAL and "forehead" in option["areas"]:
            assert option["status"] == "deferred" and option["earliest_start"] == "2026-12-01"
    assert any(o["treatment"] == "mn" and o["areas"] == ["cheeks"] and o["status"] == "ok" for o in options)
    first_forehead = min(
        v["earliest"] for v in plan["visits"] for p in v["procedures"] if "forehead" in p["areas"]
    )
    first_cheeks = min(
        v["earliest"] for v in plan["visits"] for p in v["procedures"] if "cheeks" in p["areas"]
    )
    assert first_forehead == "2026-12-01" and first_cheeks == "2026-11-22"


def test_the_plan_has_the_contract_shape(seed):
    plan = _plan(seed)
    assert set(plan) == {"today", "items", "visits"}
    item = plan["items"][0]
    assert set(item) == ITEM_KEYS | ITEM_ADDED_KEYS
    assert set(item["options"][0]) == OPTION_KEYS | OPTION_ADDED_KEYS
    assert set(plan["visits"][0]) == VISIT_KEYS
