"""Check a plan profile (shared/domain/plan-api.md) before the engine reads it: one message per
problem, naming the field. Never raises, whatever JSON it is given."""

from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from treatments.engine.planning import Catalog

# A profile of plan-api.md: JSON from a form, a file or the API, checked here before the engine reads it.
Profile = dict[str, Any]

SEVERITIES = ("mild", "moderate", "severe")
SEXES = ("female", "male", "other", "unknown")
PATIENT_FACTS = ("fitzpatrick", "age")

# The fields of the profile contract (docs/plan-api.md): anything else is a typo or a field this
# version does not know, and would otherwise be ignored without a word.
PROFILE_FIELDS = frozenset({"today", "patient", "concerns", "conditions", "cleared"})
PATIENT_FIELDS = frozenset({"birth_date", "sex", "fitzpatrick"})
ROW_FIELDS = {
    "concerns": frozenset({"concern", "areas", "severity", "note"}),
    "conditions": frozenset({"condition", "areas", "since", "until", "value", "note"}),
    "cleared": frozenset({"treatment", "condition", "reason", "by"}),
}


def parse_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


class _Checker:
    def __init__(self, catalog: "Catalog") -> None:
        self.catalog = catalog
        self.errors: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(f"{field}: {message}")

    def date(self, container: dict[str, Any], key: str, field: str, *, required: bool) -> date | None:
        value = container.get(key)
        if value is None:
            if required:
                self.add(field, "required")
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.add(field, f"not a date (YYYY-MM-DD): {value!r}")
        return parsed

    def slug(
        self, container: dict[str, Any], key: str, field: str, known: Collection[str], kind: str
    ) -> None:
        value = container.get(key)
        if value is None:
            self.add(field, "required")
        elif not isinstance(value, str) or value not in known:
            self.add(field, f"unknown {kind} {value!r}")

    def areas(self, container: dict[str, Any], field: str) -> None:
        value = container.get("areas", [])
        if value is None:
            return
        if not isinstance(value, list):
            self.add(field, "must be a list of area slugs")
            return
        for index, area in enumerate(value):
            if not isinstance(area, str) or area not in self.catalog.tree:
                self.add(f"{field}[{index}]", f"unknown area {area!r}")

    def text(self, container: dict[str, Any], key: str, field: str, *, required: bool = False) -> None:
        value = container.get(key)
        if value is None:
            if required:
                self.add(field, "required")
        elif not isinstance(value, str):
            self.add(field, "must be text")
        elif required and not value.strip():
            self.add(field, "required")

    def items(self, profile: Profile, key: str, *, required: bool) -> list[tuple[str, dict[str, Any]]]:
        value = profile.get(key)
        if value is None:
            if required:
                self.add(key, "required")
            return []
        if not isinstance(value, list):
            self.add(key, "must be a list")
            return []
        rows = []
        for index, row in enumerate(value):
            if isinstance(row, dict):
                rows.append((f"{key}[{index}]", row))
            else:
                self.add(f"{key}[{index}]", "must be an object")
        return rows


def _unknown(container: dict[str, Any], known: Collection[str], where: str) -> list[str]:
    return [
        f"{where}{name}: unknown field (known: {', '.join(sorted(known))})"
        for name in container
        if name not in known
    ]


def unknown_fields(profile: dict[str, Any]) -> list[str]:
    """One problem per field the contract does not name, by its path."""
    problems = _unknown(profile, PROFILE_FIELDS, "")
    if isinstance(profile.get("patient"), dict):
        problems += _unknown(profile["patient"], PATIENT_FIELDS, "patient.")
    for key, known in ROW_FIELDS.items():
        rows = profile.get(key)
        for index, row in enumerate(rows if isinstance(rows, list) else []):
            if isinstance(row, dict):
                problems += _unknown(row, known, f"{key}[{index}].")
    return problems


def validate_profile(profile: object, catalog: "Catalog") -> list[str]:
    check = _Checker(catalog)
    if not isinstance(profile, dict):
        return ["profile: must be a JSON object"]
    check.errors += unknown_fields(profile)
    check.date(profile, "today", "today", required=True)
    patient = profile.get("patient")
    if not isinstance(patient, dict):
        check.add("patient", "required" if patient is None else "must be an object")
    else:
        check.date(patient, "birth_date", "patient.birth_date", required=True)
        sex = patient.get("sex")
        if sex is not None and sex not in SEXES:
            check.add("patient.sex", f"must be one of {', '.join(SEXES)}")
        skin = patient.get("fitzpatrick")
        if skin is None:
            check.add("patient.fitzpatrick", "required (skin type 1-6; assess it first)")
        elif isinstance(skin, bool) or not isinstance(skin, int) or not 1 <= skin <= 6:
            check.add("patient.fitzpatrick", "must be a whole number from 1 to 6")
    for field, row in check.items(profile, "concerns", required=True):
        check.slug(row, "concern", f"{field}.concern", catalog.concerns, "concern")
        check.areas(row, f"{field}.areas")
        severity = row.get("severity")
        if severity is not None and severity not in SEVERITIES:
            check.add(f"{field}.severity", f"must be one of {', '.join(SEVERITIES)}")
        check.text(row, "note", f"{field}.note")
    for field, row in check.items(profile, "conditions", required=False):
        check.slug(row, "condition", f"{field}.condition", catalog.conditions, "condition")
        check.areas(row, f"{field}.areas")
        since = check.date(row, "since", f"{field}.since", required=False)
        until = check.date(row, "until", f"{field}.until", required=False)
        if since and until and until < since:
            check.add(f"{field}.until", "before since")
        value = row.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            check.add(f"{field}.value", "must be a number (the measured value, e.g. the platelet count)")
        check.text(row, "note", f"{field}.note")
    for field, row in check.items(profile, "cleared", required=False):
        check.slug(row, "treatment", f"{field}.treatment", catalog.treatments, "treatment")
        check.slug(
            row, "condition", f"{field}.condition", set(catalog.conditions) | set(PATIENT_FACTS), "condition"
        )
        check.text(row, "reason", f"{field}.reason", required=True)
        check.text(row, "by", f"{field}.by")
    return check.errors
