from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from patients.models import BodyArea, MedicalCondition, SkinConcern
from tests import factories
from treatments.models import (
    ContraindicationRule,
    PatientRule,
    ProcedureGap,
    Protocol,
    ProtocolDepth,
    RecordField,
    Treatment,
    TreatmentGroup,
)

pytestmark = pytest.mark.django_db


def _errors(instance):
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    return error.value.message_dict


def _protocol(**overrides):
    values = {
        "concern": SkinConcern.objects.get(slug="melasma"),
        "treatment": Treatment.objects.get(slug="mn_gf"),
        "sessions_min": 3,
        "sessions_default": 4,
        "sessions_max": 6,
        "interval_min_days": 14,
        "interval_typical_days": 28,
        "interval_max_days": 42,
        "fitzpatrick": [1, 2, 3],
    }
    return Protocol(**{**values, **overrides})


def test_a_valid_protocol_passes():
    _protocol().full_clean()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sessions_min": 5}, "sessions_default"),
        ({"interval_max_days": 20}, "interval_typical_days"),
        ({"interval_min_days": 0}, "interval_min_days"),
        ({"fitzpatrick": [0, 7]}, "fitzpatrick"),
        ({"fitzpatrick": []}, "fitzpatrick"),
        ({"concentration_min_pct": 30, "concentration_max_pct": 20}, "concentration_max_pct"),
        ({"concentration_by_fitzpatrick": {"9": {"min": 1, "max": 2}}}, "concentration_by_fitzpatrick"),
    ],
)
def test_protocol_validation(overrides, field):
    assert field in _errors(_protocol(**overrides))


@pytest.mark.parametrize(("low", "high"), [("0.05", "1.0"), ("1.0", "3.5"), ("2.0", "1.0")])
def test_needle_depth_stays_within_limits_and_order(low, high):
    protocol = factories.ProtocolFactory()
    depth = ProtocolDepth(
        protocol=protocol, area=BodyArea.objects.get(slug="nose"), min_mm=Decimal(low), max_mm=Decimal(high)
    )
    assert _errors(depth)


def _rule(**overrides):
    values = {
        "condition": MedicalCondition.objects.get(slug="smoking"),
        "treatment": Treatment.objects.get(slug="peel_lactic"),
        "severity": "precaution",
        "timing": "ongoing",
        "text": "Smoking slows healing.",
    }
    return ContraindicationRule(**{**values, **overrides})


def test_rule_names_one_target_only():
    group = TreatmentGroup.objects.first()
    assert "treatment" in _errors(_rule(group=group))
    assert "treatment" in _errors(_rule(treatment=None))


def test_windowed_timings_need_a_window_and_ongoing_takes_none():
    assert "window_days" in _errors(_rule(timing="after_event"))
    assert "window_days" in _errors(_rule(timing="ongoing", window_days=14))


def test_duplicate_rules_are_refused():
    existing = factories.ContraindicationRuleFactory()
    duplicate = ContraindicationRule(
        condition=existing.condition,
        treatment=existing.treatment,
        group=existing.group,
        timing=existing.timing,
        window_days=existing.window_days,
        severity="precaution",
        text="again",
    )
    assert "condition" in _errors(duplicate)


def test_patient_rule_bounds():
    treatment = Treatment.objects.get(slug="peel_lactic")
    assert "min_value" in _errors(PatientRule(treatment=treatment, fact="age", severity="relative", text="x"))
    assert "max_value" in _errors(
        PatientRule(
            treatment=treatment, fact="fitzpatrick", min_value=5, max_value=7, severity="relative", text="x"
        )
    )
    assert "max_value" in _errors(
        PatientRule(
            treatment=treatment, fact="age", min_value=30, max_value=20, severity="relative", text="x"
        )
    )


def test_procedure_gap_needs_both_ends_and_ordered_days():
    treatment = Treatment.objects.get(slug="mn")
    errors = _errors(ProcedureGap(from_treatment=treatment, min_days=14, recommended_days=7))
    assert {"to_treatment", "recommended_days"} <= set(errors)


def _record_field(**overrides):
    if isinstance(overrides.get("treatment"), str):
        overrides["treatment"] = Treatment.objects.get(slug=overrides["treatment"])
    values = {"group": TreatmentGroup.objects.get(slug="peels"), "key": "peel_minutes", "label": "Peel time"}
    return RecordField(**{"kind": "integer", **values, **overrides})


def test_a_valid_record_field_passes():
    _record_field(min_value=0, max_value=30, safe_max=10, unit="min").full_clean()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "choice"}, "choices"),
        ({"kind": "choice", "choices": [["a", "A"], ["a", "Again"]]}, "choices"),
        ({"choices": [["a", "A"]]}, "choices"),
        ({"kind": "text", "safe_max": 3}, "safe_max"),
        ({"safe_min": 5, "safe_max": 3}, "safe_max"),
        ({"min_value": 5, "max_value": 3}, "max_value"),
        ({"max_length": 10}, "max_length"),
        ({"kind": "text", "linked_to": "needle_depth_mm"}, "linked_to"),
        ({"linked_to": "peel_agent"}, "linked_to"),
        ({"key": "notes"}, "key"),
        ({"key": "depth_cheeks"}, "key"),
        ({"key": "layers"}, "key"),  # the peels already record layers
        ({"treatment": "mn"}, "treatment"),  # a treatment and a group
    ],
)
def test_record_field_validation(overrides, field):
    assert field in _errors(_record_field(**overrides))
