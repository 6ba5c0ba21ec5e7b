from tests.planning.builder import catalog, profile, rule
from treatments.engine.screening import ScreeningOutcome, checklist, evaluate

RULES = [
    rule("acne", "mn", "absolute", until_resolved=True, area=True),
    rule("sunburn", "mnf", "absolute", "after_event", 14),
    rule("anticoagulant", "mn", "relative"),
    rule("cold_sore", "mn", "precaution"),
    rule("keloid", "peels", "absolute"),
]


def test_the_checklist_asks_about_every_condition_that_would_stop_the_treatment():
    assert [q["condition"] for q in checklist(catalog(RULES), "peel_sal")] == ["keloid"]
    # A combination is screened for every rule of its parts.
    assert checklist(catalog(RULES), "mn_prp") == checklist(catalog(RULES), "mn")
    questions = checklist(catalog(RULES), "mn")
    assert [q["condition"] for q in questions] == ["acne", "sunburn", "anticoagulant"]
    assert questions[1]["question"] == "Sunburn in the last 14 days?"


def test_a_yes_that_raises_an_absolute_contraindication_stops_the_session():
    result = evaluate(profile(), catalog(RULES), "mn", ["cheeks"], {"sunburn": True, "acne": False})
    assert result.stop is True
    assert [r.code for r in result.reasons] == ["sunburn"]
    assert result.findings == ({"condition": "sunburn", "areas": [], "since": "2026-11-22", "until": None},)


def test_all_no_goes_on():
    result = evaluate(profile(), catalog(RULES), "mn", ["cheeks"], {"sunburn": False, "acne": False})
    assert result == ScreeningOutcome(stop=False, reasons=(), findings=())


def test_a_cleared_relative_contraindication_does_not_stop():
    cleared = [{"treatment": "mn", "condition": "anticoagulant", "reason": "agreed", "by": "dr"}]
    result = evaluate(profile(cleared=cleared), catalog(RULES), "mn", ["cheeks"], {"anticoagulant": True})
    assert result.stop is False


def test_the_seeded_questions_say_the_condition_once_with_where_and_when():
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    data = {}
    for path in ("patients/seed/vocabulary.yaml", "treatments/seed/catalog.yaml"):
        data.update(yaml.safe_load((root / path).read_text()))
    questions = {q["condition"]: q["question"] for q in checklist(data, "mn")}
    assert questions["herpes_simplex_active"] == "Cold sore in the treated area now?"
    assert questions["facial_surgery"] == "Surgery in the treated area in the last 90 days?"
    assert questions["keloid_tendency"] == "Keloid tendency?"
    for text in questions.values():
        assert text.count(" now") <= 1 and text.count("in the treated area") <= 1, text
        assert "in the area in the treated area" not in text
