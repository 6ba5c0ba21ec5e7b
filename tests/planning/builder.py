"""A small catalog, in the engine's plain-data shape, for table-driven engine tests."""

from treatments.engine.planning import prepare_catalog, suggest_plan

AREAS = [
    {
        "slug": "face",
        "children": [
            {"slug": "forehead"},
            {"slug": "cheeks", "children": [{"slug": "cheek_left"}, {"slug": "cheek_right"}]},
            {"slug": "chin_jaw"},
        ],
    },
    {"slug": "neck"},
    {"slug": "scalp"},
]
TREATMENTS = [
    {
        "slug": "mn",
        "name": "Microneedling",
        "kind": "microneedling",
        "pre_care": ["Stop retinoids."],
        "aftercare": ["SPF 50."],
    },
    {"slug": "prp_face", "name": "PRP", "kind": "prp"},
    {
        "slug": "mn_prp",
        "name": "Microneedling with PRP",
        "kind": "combination",
        "components": ["mn", "prp_face"],
    },
    {"slug": "peel_sal", "name": "Salicylic peel", "kind": "peel"},
    {"slug": "peel_tca_medium", "name": "Medium TCA", "kind": "peel"},
]
GROUPS = [
    {"slug": "mnf", "name": "Microneedling family", "members": ["mn", "mn_prp"]},
    {"slug": "peels", "name": "Peels", "members": ["peel_sal", "peel_tca_medium"]},
]


def protocol(
    treatment,
    *,
    concern="scars",
    areas=("face",),
    evidence="B",
    weight=0,
    fitzpatrick=(1, 2, 3, 4, 5, 6),
    **extra,
):
    return {
        "concern": concern,
        "treatment": treatment,
        "areas": list(areas),
        "sessions": {"min": 3, "max": 6, "default": 3},
        "interval_days": {"min": 14, "typical": 28, "max": 42},
        "settings": extra.pop("settings", {}),
        "fitzpatrick": list(fitzpatrick),
        "preferred_fitzpatrick": extra.pop("preferred", []),
        "weight": weight,
        "evidence": evidence,
    }


PROTOCOLS = [
    protocol(
        "mn",
        evidence="A",
        settings={
            "needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}, "forehead": {"min": 0.5, "max": 0.75}}
        },
    ),
    protocol("mn_prp", evidence="A", weight=0.5),
    protocol("peel_sal", evidence="C"),
    protocol("peel_tca_medium", evidence="B", fitzpatrick=(1, 2, 3, 4)),
]


def rule(
    condition,
    applies_to,
    severity,
    timing="ongoing",
    window=None,
    *,
    until_resolved=False,
    area=False,
    spread_to=None,
):
    return {
        "condition": condition,
        "applies_to": applies_to,
        "severity": severity,
        "timing": timing,
        "window_days": window,
        "until_resolved": until_resolved,
        "area_limited": area,
        "spread_to": spread_to,
        "text": f"{condition} rule",
    }


def catalog(rules=(), patient_rules=(), protocols=None, gaps=()):
    return prepare_catalog(
        {
            "areas": AREAS,
            "concerns": [
                {"slug": "scars", "name": "Scars"},
                {"slug": "hair", "name": "Hair loss", "no_option_advice": "Refer to a dermatologist."},
            ],
            "conditions": [
                {"slug": s, "name": s.replace("_", " ").capitalize()}
                for s in (
                    "keloid",
                    "acne",
                    "toxin",
                    "isotretinoin",
                    "anticoagulant",
                    "cold_sore",
                    "sunburn",
                    "smoking",
                    "pregnancy",
                )
            ],
            "treatments": TREATMENTS,
            "groups": GROUPS,
            "protocols": PROTOCOLS if protocols is None else protocols,
            "contraindications": list(rules),
            "patient_rules": list(patient_rules),
            "procedure_gaps": list(gaps),
        }
    )


def profile(
    *, conditions=(), concerns=None, fitzpatrick=2, birth_date="1990-01-01", cleared=(), today="2026-11-22"
):
    return {
        "today": today,
        "patient": {"birth_date": birth_date, "sex": "female", "fitzpatrick": fitzpatrick},
        "concerns": concerns
        if concerns is not None
        else [{"concern": "scars", "areas": ["cheeks"], "severity": "moderate"}],
        "conditions": [
            {
                "condition": c[0],
                "areas": list(c[1]) if len(c) > 1 else [],
                "since": c[2] if len(c) > 2 else None,
                "until": c[3] if len(c) > 3 else None,
            }
            for c in conditions
        ],
        "cleared": list(cleared),
    }


def plan_json(profile, catalog):
    """The engine's plan in the JSON of plan-api.md, as the command and the API print it."""
    return suggest_plan(profile, catalog).to_json()


def options(plan, treatment=None, item=0):
    found = plan["items"][item]["options"]
    return [o for o in found if treatment is None or o["treatment"] == treatment]


def excluded(plan, treatment=None, item=0):
    return [e for e in plan["items"][item]["excluded"] if treatment is None or e["treatment"] == treatment]
