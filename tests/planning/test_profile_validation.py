import pytest

from tests.planning.builder import catalog, profile
from treatments.engine.planning import validate_profile

CATALOG = catalog()


def _errors(changes):
    data = profile(conditions=[("acne", ["cheeks"], "2026-01-01", "2026-02-01")])
    for path, value in changes.items():
        target = data
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is ...:
            target.pop(keys[-1])
        else:
            target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return validate_profile(data, CATALOG)


def test_a_valid_profile_has_no_errors():
    assert _errors({}) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"today": "22/11/2026"}, "today"),
        ({"today": ...}, "today"),
        ({"patient.fitzpatrick": 7}, "patient.fitzpatrick"),
        ({"patient.fitzpatrick": "2"}, "patient.fitzpatrick"),
        ({"patient.fitzpatrick": True}, "patient.fitzpatrick"),
        ({"patient.birth_date": ...}, "patient.birth_date"),
        ({"patient.sex": "robot"}, "patient.sex"),
        ({"patient": ...}, "patient"),
        ({"concerns.0.concern": "nope"}, "concerns[0].concern"),
        ({"concerns.0.areas": ["elbow"]}, "concerns[0].areas[0]"),
        ({"concerns.0.severity": "huge"}, "concerns[0].severity"),
        ({"concerns": ...}, "concerns"),
        ({"concerns": "scars"}, "concerns"),
        ({"conditions.0.condition": "flu"}, "conditions[0].condition"),
        ({"conditions.0.until": "2025-01-01"}, "conditions[0].until"),
        ({"conditions.0.since": "yesterday"}, "conditions[0].since"),
        ({"conditions.0": 5}, "conditions[0]"),
        ({"cleared": [{"treatment": "laser", "condition": "acne", "reason": "x"}]}, "cleared[0].treatment"),
        ({"cleared": [{"treatment": "mn", "condition": "acne", "reason": " "}]}, "cleared[0].reason"),
    ],
)
def test_each_problem_names_its_field(changes, field):
    errors = _errors(changes)
    assert errors, changes
    assert any(error.startswith(f"{field}:") for error in errors), errors


@pytest.mark.parametrize("value", [None, [], "text", 3, {"today": []}])
def test_any_json_value_gets_messages_not_an_exception(value):
    assert validate_profile(value, CATALOG)
