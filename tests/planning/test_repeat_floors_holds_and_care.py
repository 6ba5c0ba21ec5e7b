"""Issue 12 on the real seed catalog (today = 2026-11-22): repeat floors, preparation holds, care
per treatment, item notes and summaries, measured values, readable output.

Each test names its rule; the comment gives the catalog row's sources (docs/clinical-sources.md).
"""

from pathlib import Path

import pytest
import yaml

from treatments.engine.planning import prepare_catalog, suggest_plan, validate_profile

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-11-22"
MN_SKIN = {"mn", "mn_prp", "mn_ha"}
SUPERFICIAL = {
    "peel_glycolic",
    "peel_lactic",
    "peel_mandelic",
    "peel_salicylic",
    "peel_jessner",
    "peel_tca_superficial",
}
SCARS = [{"concern": "acne_scars_atrophic", "areas": ["cheeks"], "severity": "moderate"}]
PHOTODAMAGE = [{"concern": "photodamage", "areas": ["face"], "severity": "moderate"}]
HAIR = [{"concern": "androgenetic_alopecia", "areas": ["scalp"], "severity": "moderate"}]


@pytest.fixture(scope="module")
def seed():
    data = {}
    for path in ("patients/seed/vocabulary.yaml", "treatments/seed/catalog.yaml"):
        data.update(yaml.safe_load((ROOT / path).read_text()))
    return prepare_catalog(data)


def had(condition, areas=(), since=None, until=None, **extra):
    return {"condition": condition, "areas": list(areas), "since": since, "until": until, **extra}


def plan(seed, concerns, *conditions, fitzpatrick=2):
    profile = {
        "today": TODAY,
        "patient": {"birth_date": "1985-05-01", "sex": "female", "fitzpatrick": fitzpatrick},
        "concerns": concerns,
        "conditions": list(conditions),
    }
    assert validate_profile(profile, seed) == []
    return suggest_plan(profile, seed).to_json()


def options(result, treatments, item=0):
    wanted = {treatments} if isinstance(treatments, str) else set(treatments)
    return [o for o in result["items"][item]["options"] if o["treatment"] in wanted]


def starts(result, treatments, item=0):
    return {(o["treatment"], o["status"], o["earliest_start"]) for o in options(result, treatments, item)}


# --- 1. Repeat floors, counted from procedures done here or elsewhere -------------------------


@pytest.mark.parametrize(
    ("condition", "since", "concerns", "treatments", "expected"),
    [
        # MN -> MN 14 d [ALAM14][ELD-ACNE][HAR15][MIN24][JC20]; 5 days ago, then the boundary day.
        ("recent_microneedling", "2026-11-17", SCARS, MN_SKIN, ("deferred", "2026-12-01")),
        ("recent_microneedling", "2026-11-09", SCARS, MN_SKIN, ("deferred", "2026-11-23")),
        ("recent_microneedling", "2026-11-08", SCARS, MN_SKIN, ("ok", TODAY)),
        # Superficial peel -> superficial peel 7 d [WEBMD][GRIMES]; 3 days ago, then the boundary day.
        (
            "recent_peel",
            "2026-11-19",
            PHOTODAMAGE,
            {"peel_glycolic", "peel_salicylic"},
            ("deferred", "2026-11-26"),
        ),
        ("recent_peel", "2026-11-15", PHOTODAMAGE, {"peel_glycolic", "peel_salicylic"}, ("ok", TODAY)),
        # Medium TCA -> medium TCA 182 d [WEBMD] (20 days ago at another clinic).
        ("recent_medium_peel", "2026-11-02", PHOTODAMAGE, {"peel_tca_medium"}, ("deferred", "2027-05-03")),
        # Scalp microneedling weekly at most [DHU13][KUM18].
        ("recent_microneedling", "2026-11-17", HAIR, {"mn_scalp"}, ("deferred", "2026-11-24")),
        ("recent_microneedling", "2026-11-15", HAIR, {"mn_scalp"}, ("ok", TODAY)),
        # PRP -> PRP 14 d [LEG23][DU20].
        ("recent_prp", "2026-11-12", HAIR, {"prp_scalp"}, ("deferred", "2026-11-26")),
    ],
)
def test_repeat_floor_per_treatment_class_and_area(seed, condition, since, concerns, treatments, expected):
    area = concerns[0]["areas"][0]
    result = plan(seed, concerns, had(condition, [area], since, since))
    assert {(status, start) for _, status, start in starts(result, treatments)} == {expected}


def test_repeat_floor_applies_only_to_the_area_that_was_treated(seed):
    # §10 "same area": needling of the forehead leaves the cheeks free [HAR15].
    result = plan(seed, SCARS, had("recent_microneedling", ["forehead"], "2026-11-17", "2026-11-17"))
    assert {status for _, status, _ in starts(result, MN_SKIN)} == {"ok"}


def test_medium_peel_elsewhere_defers_microneedling_30_days(seed):
    # medium peel -> MN 30 d [PURELY]; -> superficial peel 30 d (extrapolated, D) [PURELY][GRIMES-POST].
    result = plan(seed, PHOTODAMAGE, had("recent_medium_peel", ["face"], "2026-11-02", "2026-11-02"))
    assert starts(result, "mn") == {("mn", "deferred", "2026-12-02")}
    assert {start for _, _, start in starts(result, SUPERFICIAL)} == {"2026-12-02"}


# --- 2. Preparation holds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fitzpatrick", "until", "earliest"),
    [
        (2, None, "2026-11-29"),  # stopped today: 7 days [GRIMES-PREP][IADVL-D]
        (5, None, "2026-12-06"),  # 14 days for skin types IV-VI [GRIMES-PREP]
        (2, "2026-11-18", "2026-11-25"),  # stopped 4 days ago
        (2, "2026-11-10", TODAY),  # stopped long enough ago
    ],
)
def test_topical_retinoid_hold_moves_every_peel(seed, fitzpatrick, until, earliest):
    result = plan(
        seed, PHOTODAMAGE, had("topical_retinoid", ["face"], "2026-01-01", until), fitzpatrick=fitzpatrick
    )
    peels = options(result, SUPERFICIAL)
    assert peels and {o["earliest_start"] for o in peels} == {earliest}
    # A precaution hold moves the date and keeps the status (skin type V may need clearance for some).
    assert {o["status"] for o in peels} <= {"ok", "needs_clearance"}
    if earliest != TODAY:
        assert any(line.startswith("Stop tretinoin") for line in peels[0]["pre_care"])


def test_nsaid_hold_moves_prp_and_says_if_the_prescriber_agrees(seed):
    # NSAIDs 7 d before PRP, prescriber's decision [MEDSCAPE-PRP][PRPC] (§6, §11.7).
    result = plan(seed, HAIR, had("nsaid", [], "2026-01-01"))
    (prp,) = options(result, "prp_scalp")
    assert (prp["status"], prp["earliest_start"]) == ("ok", "2026-11-29")
    assert any("If the prescriber agrees, stop" in line and "22 Nov 2026" in line for line in prp["pre_care"])


def test_anticoagulant_is_never_a_hold(seed):
    # Anticoagulants are stopped only by the prescriber (§6, §8.2): clearance, no date, no stop advice.
    result = plan(seed, HAIR, had("anticoagulant", [], "2026-01-01"))
    (prp,) = options(result, "prp_scalp")
    assert prp["status"] == "needs_clearance" and prp["earliest_start"] == TODAY
    assert not any(line.startswith("Stop") for line in prp["pre_care"])


def test_antiviral_prophylaxis_starts_two_days_before(seed):
    # HSV history: antiviral from 2 days before [CLIN-AET][MIN24]; mandatory lead for microneedling.
    result = plan(seed, SCARS, had("herpes_simplex_history"))
    (mn_prp,) = options(result, "mn_prp")
    assert mn_prp["earliest_start"] == "2026-11-24"
    assert [f["code"] for f in mn_prp["flags"]].count("herpes_simplex_history") == 1
    assert any(
        line.startswith("Antiviral prophylaxis (prescribed) from 22 Nov 2026") for line in mn_prp["pre_care"]
    )
    assert not any(line.startswith("With a history of cold sores") for line in mn_prp["pre_care"])


def test_tanning_defers_a_peel_until_two_weeks_after_it_stops(seed):
    # Sun/tanning 2 weeks before [ESSENCE][RENEW-PEEL]; 1 month before medium TCA [ACNE-MI].
    result = plan(seed, PHOTODAMAGE, had("tanning", ["face"], "2026-06-01"))
    assert {o["earliest_start"] for o in options(result, SUPERFICIAL)} == {"2026-12-06"}
    assert starts(result, "peel_tca_medium") == {("peel_tca_medium", "deferred", "2026-12-22")}


# --- 3. Care per treatment ----------------------------------------------------------------------


def test_medium_tca_has_its_own_care_and_priming(seed):
    # §6/§7 [GRIMES-POST][ACNE-MI][SDC-PRIME]: healing 7-10 d, soaks, petrolatum, no 3-7 day scaling line.
    (tca,) = options(plan(seed, PHOTODAMAGE), "peel_tca_medium")
    aftercare = " ".join(tca["aftercare"])
    assert "7-10 days" in aftercare and "petrolatum" in aftercare and "soaks" in aftercare
    assert "3-7 days" not in aftercare
    assert any("smoking" in line.lower() for line in tca["pre_care"])
    assert tca["earliest_start"] == "2026-12-06"  # priming at least 14 days


def test_a_combination_gets_the_union_of_its_components_care(seed):
    # mn_prp = own lines, then mn's and prp_face's [CLIN-AET][CHU21][PRPC][MRB].
    (mn_prp,) = options(plan(seed, SCARS), "mn_prp")
    after, pre = mn_prp["aftercare"], mn_prp["pre_care"]
    assert after[0].startswith("Leave the PRP on")
    assert not any(line.startswith("Wash with tepid water") for line in after)
    assert "Use paracetamol rather than NSAIDs." in after
    assert any(line.startswith("Only sterile products") for line in after)
    assert any(line.startswith("No retinoids, AHA/BHA") for line in after)
    assert any("full blood count" in line for line in pre)
    assert len(after) == len(set(after)) and len(pre) == len(set(pre))


def test_prp_scalp_shows_its_maintenance(seed):
    # Maintenance every 3-6 months [DRO-PRP].
    (prp,) = options(plan(seed, HAIR), "prp_scalp")
    assert prp["maintenance"] == "Maintenance: one session every 3-6 months."


# --- 4. Item notes and summaries ----------------------------------------------------------------


def test_uncontrolled_rosacea_refers_for_medical_management(seed):
    # Rosacea controlled first [KICHI][BALANCE][PRACTDERM][NRS-PROC].
    concerns = [{"concern": "fine_lines_wrinkles", "areas": ["cheeks"], "severity": "moderate"}]
    result = plan(seed, concerns, had("rosacea", ["face"], "2025-01-01"))
    item = result["items"][0]
    assert any("refer for medical management" in note for note in item["notes"])
    assert {o["status"] for o in options(result, MN_SKIN)} == {"deferred"}
    assert {o["status"] for o in options(result, "prp_face")} == {"ok"}


def test_chemotherapy_is_named_when_it_rules_out_prp_for_hair(seed):
    # §8.3 [BALANCE][BRILL]; PRP evidence is for AGA only [THI18][ZHOU21].
    item = plan(seed, HAIR, had("chemotherapy", [], "2026-10-01"))["items"][0]
    assert item["summary"].startswith("Nothing can be offered until resolved (Chemotherapy or radiotherapy)")
    assert any("not androgenetic alopecia" in note for note in item["notes"])


@pytest.mark.parametrize(
    ("condition", "clearable"),
    [
        # Relative below 100 x10^9/L [MEDSCAPE-PRP][YESPRP]: a clinician's clearance lifts it.
        (had("thrombocytopenia", [], "2026-11-01", value=80), True),
        # Absolute below 50 [MSD-PLT]: only a recovered count does.
        (had("thrombocytopenia", [], "2026-11-01", value=40), False),
    ],
)
def test_a_summary_says_when_a_clearance_would_lift_what_blocks(seed, condition, clearable):
    summary = plan(seed, HAIR, condition)["items"][0]["summary"]
    assert summary.startswith("Nothing can be offered until resolved (Low platelets)")
    assert ("or a clinician records a clearance" in summary) == clearable


def test_superficial_peel_for_atrophic_scars_says_its_effect_is_limited(seed):
    # [IADVL08][ISH22]
    (glycolic,) = options(plan(seed, SCARS), "peel_glycolic")
    assert any(note.startswith("Limited effect") for note in glycolic["notes"])


def test_ready_summary_gives_the_date(seed):
    result = plan(seed, SCARS, had("topical_retinoid", ["cheeks"], "2026-01-01"))
    assert result["items"][0]["summary"].startswith("Ready from 29 Nov 2026")


def test_a_deferred_upper_lip_keeps_the_rest_of_the_perioral_area(seed):
    # Waxing 7 d [CLIN-AET][IADVL-D]; the perioral area is more than the upper lip.
    concerns = [{"concern": "fine_lines_wrinkles", "areas": ["perioral"], "severity": "moderate"}]
    result = plan(seed, concerns, had("waxing", ["upper_lip"], "2026-11-20", "2026-11-20"))
    mn = {tuple(o["areas"]): o for o in options(result, "mn")}
    assert mn[("upper_lip",)]["status"] == "deferred"
    assert mn[("perioral",)]["status"] == "ok"
    assert mn[("perioral",)]["notes"] == ["Perioral: all of it except Upper lip."]
    summary = result["items"][0]["summary"]
    assert "the rest of the perioral area" in summary and "Upper lip deferred until 27 Nov 2026" in summary


# --- 5. Measured values and the missing rules ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "prp_status", "flag_severity"),
    [
        (45, "deferred", "absolute"),  # critical: below 50 [MSD-PLT][MEDSCAPE-PRP]
        # Below 100: relative, until a normal count is recorded or a clinician clears it [MEDSCAPE-PRP][YESPRP]
        (80, "deferred", "relative"),
        (None, "deferred", "relative"),  # no count recorded: as written
        (150, "ok", None),  # a normal count lifts the rule
    ],
)
def test_platelet_count_sets_the_severity(seed, value, prp_status, flag_severity):
    extra = {"value": value} if value is not None else {}
    result = plan(seed, HAIR, had("thrombocytopenia", [], "2026-11-01", **extra))
    (prp,) = options(result, "prp_scalp")
    assert prp["status"] == prp_status
    severities = [f["severity"] for f in prp["flags"] if f["code"] == "thrombocytopenia"]
    assert severities == ([flag_severity] if flag_severity else [])
    (scalp_mn,) = options(result, "mn_scalp")
    assert not any("PRP" in f["text"] for f in scalp_mn["flags"])


@pytest.mark.parametrize(
    ("condition", "status"),
    [("stainless_steel_allergy", "excluded"), ("metal_allergy", "needs_clearance")],
)
def test_metal_allergy_severity_follows_the_reference(seed, condition, status):
    # §8.1: mn* RELATIVE, ABSOLUTE if documented stainless-steel allergy [CHU21][AHQ][BALANCE].
    result = plan(seed, SCARS, had(condition))
    if status == "excluded":
        assert not options(result, MN_SKIN)
        assert {e["treatment"] for e in result["items"][0]["excluded"]} >= MN_SKIN
    else:
        assert {o["status"] for o in options(result, MN_SKIN)} == {status}


def test_psoriasis_elsewhere_gives_a_koebner_precaution(seed):
    # §8.1 psoriasis history: precaution for mn*, peels, prp* [KOEB].
    result = plan(seed, PHOTODAMAGE, had("psoriasis", ["arms"], "2020-01-01"))
    for option in options(result, {"mn", "peel_glycolic", "mn_prp"}):
        assert option["status"] == "ok"
        assert [f["severity"] for f in option["flags"] if f["code"] == "psoriasis"] == ["precaution"]


# --- 6. Readable output -------------------------------------------------------------------------


def test_prp_does_not_rank_first_for_mild_nose_pores(seed):
    # §2 enlarged_pores: prp_face B is a secondary readout [DU20]; §3 has no PRP protocol for pores.
    concerns = [{"concern": "enlarged_pores", "areas": ["nose"], "severity": "mild"}]
    result = plan(seed, concerns)
    ranked = [o["treatment"] for o in result["items"][0]["options"]]
    assert ranked[0] != "prp_face" and "prp_face" in ranked


def test_a_combination_carries_each_condition_once(seed):
    result = plan(
        seed, HAIR, had("thrombocytopenia", [], "2026-11-01", value=80), had("nsaid", [], "2026-01-01")
    )
    (mn_prp,) = options(result, "mn_prp")
    codes = [f["code"] for f in mn_prp["flags"]]
    assert len(codes) == len(set(codes))


# --- 7. One session over a large body surface ------------------------------------------------


@pytest.mark.parametrize(
    ("areas", "warned"),
    [
        # Face 3.5 + décolleté 4.5 + back 13 = 21 % of the body [LUND44]: at or above the 20 % limit.
        (["face", "decollete", "back"], True),
        # Back and décolleté alone, 17.5 %: below it.
        (["decollete", "back"], False),
        # The face's parts count once, inside the face.
        (["face", "cheeks", "nose"], False),
    ],
)
def test_salicylism_caution_follows_the_treated_body_surface(seed, areas, warned):
    # Salicylism from 20 % SA over 50 % of the body [GRIMES-SA], 6 % over 40 % [MADAN14]; the
    # catalog warns at half the smallest area reported.
    concerns = [{"concern": "active_acne", "areas": areas, "severity": "moderate"}]
    result = plan(seed, concerns)
    salicylates = options(result, {"peel_salicylic", "peel_jessner"})
    assert salicylates
    for option in salicylates:
        flags = [f for f in option["flags"] if f["code"] == "body_surface"]
        assert bool(flags) == warned
        if warned:
            assert flags[0]["severity"] == "precaution" and "Salicylism" in flags[0]["text"]
            assert "21 %" in flags[0]["text"]
    for option in options(result, {"peel_glycolic", "peel_mandelic"}):
        assert not [f for f in option["flags"] if f["code"] == "body_surface"]
