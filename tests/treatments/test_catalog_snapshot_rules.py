"""The seeded database gives the engine the same new rule fields as the seed files (holds, lead
times, measured values, item notes, care tags, maintenance, partial areas)."""

import pytest

from treatments.engine.planning import prepare_catalog, suggest_plan
from treatments.selectors.catalog import snapshot
from treatments.services.catalog_seeding import load_seed_data

pytestmark = pytest.mark.django_db

PROFILES = [
    (
        [{"concern": "photodamage", "areas": ["face"], "severity": "moderate"}],
        [{"condition": "topical_retinoid", "areas": ["face"], "since": "2026-01-01"}],
        5,
    ),
    (
        [{"concern": "androgenetic_alopecia", "areas": ["scalp"], "severity": "moderate"}],
        [
            {"condition": "thrombocytopenia", "areas": [], "since": "2026-11-01", "value": 45},
            {"condition": "nsaid", "areas": [], "since": "2026-01-01"},
        ],
        2,
    ),
    (
        [{"concern": "fine_lines_wrinkles", "areas": ["perioral"], "severity": "mild"}],
        [
            {"condition": "waxing", "areas": ["upper_lip"], "since": "2026-11-20", "until": "2026-11-20"},
            {"condition": "herpes_simplex_history", "areas": []},
            {"condition": "rosacea", "areas": ["cheeks"], "since": "2025-01-01"},
        ],
        2,
    ),
    (
        [{"concern": "acne_scars_atrophic", "areas": ["cheeks"], "severity": "moderate"}],
        [{"condition": "recent_microneedling", "areas": ["cheeks"], "since": "2026-11-17"}],
        3,
    ),
    (
        # A salicylic peel over 21 % of the body surface: the body-surface shares and the surface rule.
        [{"concern": "active_acne", "areas": ["face", "decollete", "back"], "severity": "moderate"}],
        [],
        3,
    ),
]


@pytest.mark.parametrize(("concerns", "conditions", "fitzpatrick"), PROFILES)
def test_the_database_catalog_plans_like_the_seed_files(concerns, conditions, fitzpatrick):
    profile = {
        "today": "2026-11-22",
        "patient": {"birth_date": "1985-05-01", "sex": "female", "fitzpatrick": fitzpatrick},
        "concerns": concerns,
        "conditions": conditions,
    }
    from_files = suggest_plan(profile, prepare_catalog(load_seed_data())).to_json()
    from_database = suggest_plan(profile, prepare_catalog(snapshot())).to_json()
    assert from_database == from_files


def test_the_surface_rule_reaches_the_plan_through_the_database():
    profile = {
        "today": "2026-11-22",
        "patient": {"birth_date": "1985-05-01", "sex": "female", "fitzpatrick": 3},
        "concerns": [{"concern": "active_acne", "areas": ["face", "decollete", "back"]}],
        "conditions": [],
    }
    plan = suggest_plan(profile, prepare_catalog(snapshot())).to_json()
    salicylic = [o for o in plan["items"][0]["options"] if o["treatment"] == "peel_salicylic"]
    assert [f["code"] for f in salicylic[0]["flags"]] == ["body_surface"]
