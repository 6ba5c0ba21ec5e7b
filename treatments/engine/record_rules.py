"""What a session's record asks for, and the values outside their safe ranges, which a clinician
must confirm with a reason.

Pure. The fields come from the catalog's `record_fields` (docs/catalog-format.md); `limits` is the
settings block of a plan option (see plan-api.md), e.g.
{"needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}}, "peel": {"concentration_pct": {...}}}.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from treatments.engine.plan_results import Bounds, ProtocolSettings
from treatments.engine.planning import Catalog, _settings, prepare_catalog

# A recorded value as stored in the record's JSON: a per-area field holds {area: number}.
RecordValue = str | int | float | bool | dict[str, float]
RecordValues = dict[str, RecordValue]

# The safe ranges of a session: a plan option's settings, or the widest of the catalog's protocols.
Limits = ProtocolSettings


class FieldKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    EXPIRY = "expiry"  # a date that may not fall before the session's day
    CHOICE = "choice"
    YES_NO = "yes_no"


NUMBER_KINDS = frozenset({FieldKind.INTEGER, FieldKind.DECIMAL})


class FieldLink(StrEnum):
    """What a field is checked against or filled in from, beyond its own catalog row."""

    NONE = ""
    NEEDLE_DEPTH = "needle_depth_mm"  # one value per treated area; safe range per area
    PEEL_CONCENTRATION = "concentration_pct"
    PEEL_COATS = "coats"
    PEEL_AGENT = "peel_agent"
    DEVICES = "devices"


RANGE_LINKS = frozenset({FieldLink.NEEDLE_DEPTH, FieldLink.PEEL_CONCENTRATION, FieldLink.PEEL_COATS})
TEXT_LINKS = frozenset({FieldLink.PEEL_AGENT, FieldLink.DEVICES})


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class RecordFieldSpec:
    key: str
    label: str
    kind: FieldKind
    applies_to: str = ""
    order: int = 0
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    safe_min: float | None = None
    safe_max: float | None = None
    linked_to: FieldLink = FieldLink.NONE
    help_text: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RecordFieldSpec":
        return cls(
            key=data["key"],
            label=data["label"],
            kind=FieldKind(data["kind"]),
            applies_to=data.get("applies_to", ""),
            order=int(data.get("order") or 0),
            unit=data.get("unit") or "",
            choices=tuple((str(value), str(label)) for value, label in data.get("choices") or ()),
            required=bool(data.get("required", True)),
            min=_number(data.get("min")),
            max=_number(data.get("max")),
            max_length=data.get("max_length"),
            safe_min=_number(data.get("safe_min")),
            safe_max=_number(data.get("safe_max")),
            linked_to=FieldLink(data.get("linked_to") or ""),
            help_text=data.get("help_text") or "",
        )

    @property
    def per_area(self) -> bool:
        return self.linked_to == FieldLink.NEEDLE_DEPTH

    @property
    def own_range(self) -> Bounds | None:
        if self.safe_min is None and self.safe_max is None:
            return None
        return {"min": self.safe_min, "max": self.safe_max}

    @property
    def checks_range(self) -> bool:
        """Whether a value may need a reason: the field has a safe range of its own or a protocol's."""
        return self.linked_to in RANGE_LINKS or self.own_range is not None

    def safe_range(self, limits: Limits, area: str | None = None) -> Bounds | None:
        """The protocol's (or plan's) range when the session has one, else the field's own."""
        found: Bounds | None = None
        depths, peel = limits.get("needle_depth_mm"), limits.get("peel")
        if self.linked_to == FieldLink.NEEDLE_DEPTH and depths and area is not None:
            found = depths.get(area)
        elif self.linked_to == FieldLink.PEEL_CONCENTRATION and peel:
            found = peel.get("concentration_pct")
        elif self.linked_to == FieldLink.PEEL_COATS and peel:
            found = peel.get("coats")
        return found or self.own_range


def record_fields(catalog: Catalog | dict[str, Any], treatment: str) -> list[RecordFieldSpec]:
    """The fields a session of `treatment` records, in order. A row naming the treatment itself wins
    over a group's row for the same key; combinations list their own fields (no inheritance from
    components: what is recorded follows what is done in the session)."""
    prepared = prepare_catalog(catalog)
    groups: dict[str, set[str]] = prepared.groups
    specs = [RecordFieldSpec.from_json(row) for row in prepared.data.get("record_fields") or []]
    chosen: dict[str, RecordFieldSpec] = {}
    for spec in sorted(specs, key=lambda s: (s.applies_to != treatment, s.order, s.applies_to)):
        applies = spec.applies_to == treatment or treatment in groups.get(spec.applies_to, set())
        if applies and spec.key not in chosen:
            chosen[spec.key] = spec
    return sorted(chosen.values(), key=lambda s: (s.order, s.key))


@dataclass(frozen=True)
class OutOfRange:
    key: str
    message: str


def _check(
    key: str, label: str, value: RecordValue | None, bounds: Bounds | None, unit: str
) -> OutOfRange | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not bounds:
        return None
    low, high = bounds.get("min"), bounds.get("max")
    shown = f" {unit}" if unit else ""
    if high is not None and value > high:
        return OutOfRange(key, f"{label} {value:g}{shown} is above the safe maximum of {high:g}{shown}.")
    if low is not None and value < low:
        return OutOfRange(key, f"{label} {value:g}{shown} is below the usual minimum of {low:g}{shown}.")
    return None


def out_of_range(
    values: Mapping[str, RecordValue],
    limits: Limits,
    *,
    fields: Iterable[RecordFieldSpec],
    area_names: Mapping[str, str] | None = None,
) -> list[OutOfRange]:
    """Every value outside its safe range. Keys: the field's key, or "key.area" per treated area."""
    names = area_names or {}
    found = []
    for spec in fields:
        if not spec.checks_range:
            continue
        value = values.get(spec.key)
        if spec.per_area:
            per_area = value if isinstance(value, dict) else {}
            for area, number in sorted(per_area.items()):
                label = f"{spec.label} on {names.get(area, area)}"
                problem = _check(
                    f"{spec.key}.{area}", label, number, spec.safe_range(limits, area), spec.unit
                )
                if problem:
                    found.append(problem)
        else:
            problem = _check(spec.key, spec.label, value, spec.safe_range(limits), spec.unit)
            if problem:
                found.append(problem)
    return found


def unconfirmed(problems: Sequence[OutOfRange], reasons: Mapping[str, str]) -> list[OutOfRange]:
    """The problems without a confirmation reason ({key: reason})."""
    return [p for p in problems if not (reasons.get(p.key) or "").strip()]


def _widen(kept: Bounds | None, bounds: Bounds) -> Bounds:
    if not kept:
        return bounds.copy()
    low = [v for v in (kept.get("min"), bounds.get("min")) if v is not None]
    high = [v for v in (kept.get("max"), bounds.get("max")) if v is not None]
    return {"min": min(low, default=None), "max": max(high, default=None)}


def session_limits(
    catalog: Catalog | dict[str, Any], treatment: str, areas: Sequence[str], fitzpatrick: int | None
) -> Limits:
    """The safe ranges for a session outside a plan: the widest range any of the catalog's
    protocols for `treatment` allows on these areas."""
    prepared = prepare_catalog(catalog)
    limits: Limits = {}
    for protocols in prepared.protocols.values():
        for protocol in protocols:
            if protocol["treatment"] != treatment:
                continue
            settings = _settings(prepared, protocol, areas, fitzpatrick)
            for area, bounds in (settings.get("needle_depth_mm") or {}).items():
                depths = limits.setdefault("needle_depth_mm", {})
                depths[area] = _widen(depths.get(area), bounds)
            resolved = settings.get("peel")
            strength = resolved.get("concentration_pct") if resolved else None
            if resolved and strength:
                peel = limits.setdefault("peel", {"agent": resolved.get("agent", "")})
                peel["concentration_pct"] = _widen(peel.get("concentration_pct"), strength)
    return limits


def plan_settings(
    chosen: Mapping[str, Any] | None, treatment: str, areas: Sequence[str]
) -> tuple[Limits, dict[str, float]]:
    """(safe ranges, planned depths {area: mm}) from the accepted plan's choices (its stored JSON)
    for `treatment` on any of `areas`; both empty when the plan has none."""
    limits: Limits = {}
    planned: dict[str, float] = {}
    for item in (chosen or {}).get("items", []):
        if item.get("treatment") != treatment or not set(item.get("areas", [])) & set(areas):
            continue
        settings = (item.get("option") or {}).get("settings") or {}
        if settings.get("needle_depth_mm"):
            limits.setdefault("needle_depth_mm", {}).update(settings["needle_depth_mm"])
        if settings.get("peel"):
            limits.setdefault("peel", settings["peel"])
        planned.update(item.get("depths") or {})
    return limits, planned
