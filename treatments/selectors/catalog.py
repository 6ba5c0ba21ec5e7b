"""The catalog as plain data: the shape of docs/catalog-format.md, for the plan engine."""

from decimal import Decimal
from typing import Any, TypedDict

from patients.models import BodyArea, MedicalCondition, SkinConcern
from treatments.models import (
    ContraindicationRule,
    PatientRule,
    ProcedureGap,
    Protocol,
    RecordField,
    Treatment,
    TreatmentGroup,
)
from treatments.models.catalog import CatalogRow

# The catalog document (docs/catalog-format.md) is JSON-like data the engine reads.
CatalogData = dict[str, Any]
Row = dict[str, Any]


class Provenance(TypedDict):
    evidence: str
    sources: list[str]
    sources_disagree: bool
    note: str


class AreaNode(TypedDict):
    slug: str
    name: str
    children: list["AreaNode"]
    children_partial: bool
    surface_percent: int | float | None


def _num(value: Decimal | float | None) -> int | float | None:
    if value is None:
        return None
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def _provenance(row: CatalogRow) -> Provenance:
    return {
        "evidence": row.evidence,
        "sources": sorted(source.key for source in row.sources.all()),
        "sources_disagree": row.sources_disagree,
        "note": row.note,
    }


def _target(treatment: Treatment | None, group: TreatmentGroup | None) -> str:
    if treatment is not None:
        return treatment.slug
    assert group is not None  # a constraint: every rule names a treatment or a group
    return group.slug


def _area_tree(areas: list[BodyArea]) -> list[AreaNode]:
    children: dict[int | None, list[BodyArea]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area)

    def build(parent_id: int | None) -> list[AreaNode]:
        return [
            {
                "slug": a.slug,
                "name": a.name,
                "children": build(a.id),
                "children_partial": a.children_partial,
                "surface_percent": _num(a.surface_percent),
            }
            for a in children.get(parent_id, [])
        ]

    return build(None)


def snapshot() -> CatalogData:
    """Read the active catalog in a fixed number of queries and return it as plain data."""
    areas = list(BodyArea.objects.filter(active=True).order_by("sort_order", "name"))
    treatments = list(
        Treatment.objects.filter(active=True)
        .select_related("consent_form")
        .prefetch_related("components", "needs", "sources")
    )
    protocols = (
        Protocol.objects.filter(active=True, treatment__active=True)
        .select_related("concern", "treatment")
        .prefetch_related("areas", "depths__area", "sources")
    )
    rules = (
        ContraindicationRule.objects.filter(active=True)
        .select_related("condition", "treatment", "group", "spread_to")
        .prefetch_related("sources")
    )
    patient_rules = (
        PatientRule.objects.filter(active=True)
        .select_related("treatment", "group")
        .prefetch_related("sources")
    )
    gaps = (
        ProcedureGap.objects.filter(active=True)
        .select_related("from_treatment", "from_group", "to_treatment", "to_group")
        .prefetch_related("sources")
    )
    record_fields = (
        RecordField.objects.filter(active=True)
        .select_related("treatment", "group")
        .prefetch_related("sources")
    )
    return {
        "areas": _area_tree(areas),
        "concerns": [
            {
                "slug": c.slug,
                "name": c.name,
                "description": c.description,
                "no_option_advice": c.no_option_advice,
            }
            for c in SkinConcern.objects.filter(active=True)
        ],
        "conditions": [
            {
                "slug": c.slug,
                "name": c.name,
                "kind": c.kind,
                "description": c.description,
                "area_specific": c.area_specific,
                "measure": {"name": c.measure_name, "unit": c.measure_unit} if c.measure_name else None,
            }
            for c in MedicalCondition.objects.filter(active=True)
        ],
        "groups": [
            {
                "slug": g.slug,
                "name": g.name,
                "members": sorted(t.slug for t in g.members.all()),
                "history_condition": g.history_condition.slug if g.history_condition else None,
            }
            for g in TreatmentGroup.objects.select_related("history_condition").prefetch_related("members")
        ],
        "treatments": [
            {
                "slug": t.slug,
                "name": t.name,
                "kind": t.kind,
                "components": sorted(c.slug for c in t.components.all()),
                "duration_minutes": t.duration_minutes,
                "buffer_minutes": t.buffer_minutes,
                "needs": sorted(n.slug for n in t.needs.all()),
                "consent_form": t.consent_form.slug if t.consent_form else None,
                "pre_care": [line for line in t.pre_care.splitlines() if line.strip()],
                "aftercare": [line for line in t.aftercare.splitlines() if line.strip()],
                **_provenance(t),
            }
            for t in treatments
        ],
        "protocols": [_protocol(p) for p in protocols],
        "contraindications": [
            {
                "condition": r.condition.slug,
                "applies_to": _target(r.treatment, r.group),
                "severity": r.severity,
                "timing": r.timing,
                "window_days": r.window_days,
                "until_resolved": r.until_resolved,
                "area_limited": r.area_limited,
                "spread_to": r.spread_to.slug if r.spread_to else None,
                "text": r.text,
                "hold_days": r.hold_days,
                "hold_days_by_fitzpatrick": r.hold_days_by_fitzpatrick,
                "lead_days": r.lead_days,
                "lead_moves_start": r.lead_moves_start,
                "pre_care": r.pre_care,
                "item_note": r.item_note,
                "value_below": _num(r.value_below),
                "critical_below": _num(r.critical_below),
                "critical_text": r.critical_text,
                **_provenance(r),
            }
            for r in rules
        ],
        "patient_rules": [
            {
                "applies_to": _target(r.treatment, r.group),
                "fact": r.fact,
                "min": r.min_value,
                "max": r.max_value,
                "severity": r.severity,
                "text": r.text,
                **_provenance(r),
            }
            for r in patient_rules
        ],
        "procedure_gaps": [
            {
                "from": _target(g.from_treatment, g.from_group),
                "to": _target(g.to_treatment, g.to_group),
                "min_days": g.min_days,
                "recommended_days": g.recommended_days,
                **_provenance(g),
            }
            for g in gaps
        ],
        "record_fields": [_record_field(f) for f in record_fields],
    }


def _record_field(f: RecordField) -> Row:
    return {
        "key": f.key,
        "applies_to": _target(f.treatment, f.group),
        "label": f.label,
        "kind": f.kind,
        "unit": f.unit,
        "choices": [list(choice) for choice in f.choices],
        "required": f.required,
        "min": _num(f.min_value),
        "max": _num(f.max_value),
        "max_length": f.max_length,
        "safe_min": _num(f.safe_min),
        "safe_max": _num(f.safe_max),
        "linked_to": f.linked_to,
        "help_text": f.help_text,
        "order": f.order,
        **_provenance(f),
    }


def _protocol(p: Protocol) -> Row:
    settings: Row = {}
    depths = {d.area.slug: {"min": _num(d.min_mm), "max": _num(d.max_mm)} for d in p.depths.all()}
    if depths:
        settings["needle_depth_mm"] = depths
    if p.peel_agent:
        peel: Row = {"agent": p.peel_agent}
        if p.concentration_min_pct is not None or p.concentration_max_pct is not None:
            peel["concentration_pct"] = {
                "min": _num(p.concentration_min_pct),
                "max": _num(p.concentration_max_pct),
            }
        if p.concentration_by_fitzpatrick:
            peel["by_fitzpatrick"] = p.concentration_by_fitzpatrick
        if p.coats_min is not None or p.coats_max is not None:
            peel["coats"] = {"min": p.coats_min, "max": p.coats_max}
        settings["peel"] = peel
    return {
        "concern": p.concern.slug,
        "treatment": p.treatment.slug,
        "areas": sorted(a.slug for a in p.areas.all()),
        "sessions": {"min": p.sessions_min, "max": p.sessions_max, "default": p.sessions_default},
        "interval_days": {
            "min": p.interval_min_days,
            "typical": p.interval_typical_days,
            "max": p.interval_max_days,
        },
        "settings": settings,
        "fitzpatrick": list(p.fitzpatrick),
        "preferred_fitzpatrick": list(p.preferred_fitzpatrick),
        "weight": p.weight,
        "maintenance": p.maintenance,
        "option_note": p.option_note,
        "preparation_days": p.preparation_days,
        **_provenance(p),
    }
