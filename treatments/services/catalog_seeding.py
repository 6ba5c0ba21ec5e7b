"""Load the seed catalog (YAML built from shared/domain) into the database.

Idempotent: rows are found by their natural keys and updated, except rows an admin has edited
(`customized`), which are left exactly as they are.
"""

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction

from patients.models import BodyArea, ConsentForm, MedicalCondition, SkinConcern
from treatments.models import (
    ContraindicationRule,
    PatientRule,
    ProcedureGap,
    Protocol,
    ProtocolDepth,
    RecordField,
    ResourceType,
    Source,
    Treatment,
    TreatmentGroup,
)

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY_FILE = ROOT / "patients" / "seed" / "vocabulary.yaml"
CATALOG_FILE = ROOT / "treatments" / "seed" / "catalog.yaml"

# The merged YAML files (docs/catalog-format.md): plain JSON-like data.
SeedData = Mapping[str, Any]
SeedItem = Mapping[str, Any]
Row = TypeVar("Row", bound=models.Model)


# The fields each section's rows may carry (docs/catalog-format.md); anything else is a typo that
# would otherwise be dropped without a word.
SECTION_FIELDS: dict[str, frozenset[str]] = {
    "areas": frozenset({"slug", "name", "description", "children", "children_partial", "surface_percent"}),
    "concerns": frozenset({"slug", "name", "description", "no_option_advice"}),
    "conditions": frozenset({"slug", "name", "description", "kind", "area_specific", "measure"}),
    "sources": frozenset({"citation", "url", "grade"}),
    "groups": frozenset({"slug", "name", "members", "history_condition"}),
    "consent_forms": frozenset({"slug", "title", "version", "body"}),
    "treatments": frozenset(
        {
            "slug", "name", "kind", "evidence", "sources", "components", "consent_form", "needs",
            "duration_minutes", "buffer_minutes", "pre_care", "aftercare",
        }
    ),
    "protocols": frozenset(
        {
            "concern", "treatment", "areas", "sessions", "interval_days", "settings", "fitzpatrick",
            "preferred_fitzpatrick", "weight", "maintenance", "option_note", "preparation_days",
            "evidence", "sources", "sources_disagree", "note",
        }
    ),
    "contraindications": frozenset(
        {
            "condition", "applies_to", "severity", "timing", "window_days", "until_resolved",
            "area_limited", "spread_to", "text", "item_note", "pre_care", "hold_days",
            "hold_days_by_fitzpatrick", "lead_days", "lead_moves_start", "value_below",
            "critical_below", "critical_text", "evidence", "sources", "sources_disagree", "note",
        }
    ),
    "patient_rules": frozenset(
        {"applies_to", "fact", "min", "max", "severity", "text", "evidence", "sources", "sources_disagree", "note"}
    ),
    "procedure_gaps": frozenset(
        {"from", "to", "min_days", "recommended_days", "evidence", "sources", "sources_disagree", "note"}
    ),
    "record_fields": frozenset(
        {
            "key", "label", "kind", "applies_to", "linked_to", "required", "min", "max", "unit",
            "max_length", "choices", "help_text", "order", "evidence", "sources", "note",
        }
    ),
}  # fmt: skip


class SeedError(Exception):
    """Bad seed input: each entry of `problems` is one line naming the file or field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _StrictLoader(yaml.SafeLoader):
    """Refuses a key written twice in one mapping (YAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            # Merge keys (<<) may be overridden on purpose; only the mapping's own keys count.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key_node.value!r} written twice", key_node.start_mark
                )
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise SeedError([f"{path}: cannot read ({error.strerror or error})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SeedError(
            [f"{path}: not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"]
        ) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise SeedError([f"{path}: not valid YAML ({error.problem or error.context}{where})"]) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise SeedError([f"{path}: not valid YAML ({type(error).__name__})"]) from None
    if not isinstance(data, dict):
        raise SeedError([f"{path}: must hold sections (areas, treatments, ...), not a {type(data).__name__}"])
    return data


def _row_problems(section: str, rows: object, where: str) -> list[str]:
    known = SECTION_FIELDS[section]
    if section == "sources":
        if not isinstance(rows, dict):
            return [f"{where}: must be a mapping of source keys"]
        items: list[tuple[str, object]] = [(f"{where}.{key}", row) for key, row in rows.items()]
    elif isinstance(rows, list):
        items = [(f"{where}[{index}]", row) for index, row in enumerate(rows)]
    else:
        return [f"{where}: must be a list"]
    problems = []
    for path, row in items:
        if not isinstance(row, dict):
            problems.append(f"{path}: must be a mapping")
            continue
        label = f"{path} ({row['slug']})" if isinstance(row.get("slug"), str) else path
        problems += [
            f"{label}.{name}: unknown field (known: {', '.join(sorted(known))})"
            for name in row
            if name not in known
        ]
        if section == "areas" and "children" in row:
            problems += _row_problems("areas", row["children"], f"{label}.children")
    return problems


def check_seed_data(data: Mapping[str, Any]) -> list[str]:
    """One line per section or field the seed format does not know."""
    problems = []
    for section, rows in data.items():
        if section not in SECTION_FIELDS:
            problems.append(f"{section}: unknown section (known: {', '.join(sorted(SECTION_FIELDS))})")
        elif rows is not None:
            problems += _row_problems(section, rows, section)
    return problems


def load_seed_data(
    vocabulary_file: Path = VOCABULARY_FILE, catalog_file: Path = CATALOG_FILE
) -> dict[str, Any]:
    """The merged seed files; SeedError names what is unreadable or unknown."""
    data: dict[str, Any] = {}
    for path in (vocabulary_file, catalog_file):
        data.update(_read_yaml(path))
    problems = check_seed_data(data)
    if problems:
        raise SeedError(problems)
    return data


def _same(current: object, wanted: object) -> bool:
    if isinstance(current, Decimal) and wanted is not None:
        return current == Decimal(str(wanted))
    return current == wanted


def _decimal(value: float | int | None) -> Decimal | None:
    # Through str: a float's binary expansion would carry more decimal places than the column.
    return None if value is None else Decimal(str(value))


def _errors(error: ValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(error, "error_dict"):
        return [
            (field, [m for e in errors for m in e.messages]) for field, errors in error.error_dict.items()
        ]
    return [("row", error.messages)]


def _lines(items: list[str] | None) -> str:
    return "\n".join(items or [])


class Seeder:
    def __init__(self, data: SeedData) -> None:
        self.data = data
        self.counts: Counter[str] = Counter()
        self.areas: dict[str, BodyArea] = {}
        self.concerns: dict[str, SkinConcern] = {}
        self.conditions: dict[str, MedicalCondition] = {}
        self.treatments: dict[str, Treatment] = {}
        self.groups: dict[str, TreatmentGroup] = {}
        self.sources: dict[str, Source] = {}
        self.forms: dict[str, ConsentForm] = {}

    def upsert(self, model: type[Row], key: dict[str, Any], values: dict[str, Any]) -> tuple[Row, bool]:
        """Create or update one row; keep a row an admin customised. Returns (row, written)."""
        row = model._default_manager.filter(**key).first()
        if row is not None and getattr(row, "customized", False):
            self.counts["kept (edited by an admin)"] += 1
            return row, False
        if row is None:
            row = model(**key)
            verb = "created"
        elif all(_same(getattr(row, field), value) for field, value in values.items()):
            # Unchanged rows are not saved again, so re-seeding adds no history entries.
            self.counts[f"{model._meta.verbose_name_plural} unchanged"] += 1
            return row, True
        else:
            verb = "updated"
        for field, value in values.items():
            setattr(row, field, value)
        row.full_clean(validate_unique=False, validate_constraints=False)
        row.save()
        self.counts[f"{model._meta.verbose_name_plural} {verb}"] += 1
        return row, True

    @transaction.atomic
    def run(self) -> Counter[str]:
        steps = [
            ("areas", lambda: self.seed_areas(self.data.get("areas", []), parent=None, order=[0])),
            ("concerns and conditions", self.seed_vocabulary),
            ("sources", self.seed_sources),
            ("consent_forms", self.seed_consent_forms),
            ("treatments", self.seed_treatments),
            ("groups", self.seed_groups),
            ("protocols", self.seed_protocols),
            ("contraindications", self.seed_contraindications),
            ("patient_rules", self.seed_patient_rules),
            ("procedure_gaps", self.seed_gaps),
            ("record_fields", self.seed_record_fields),
        ]
        for section, step in steps:
            # The whole run is one transaction: a bad row leaves the catalog as it was.
            try:
                step()
            except KeyError as error:
                raise SeedError(
                    [f"{section}: refers to {error.args[0]!r}, which the seed does not define"]
                ) from None
            except (TypeError, ValueError, AttributeError) as error:
                raise SeedError([f"{section}: a row has a value of the wrong type ({error})"]) from None
            except ValidationError as error:
                raise SeedError(
                    [
                        f"{section}: {field}: {message}"
                        for field, messages in _errors(error)
                        for message in messages
                    ]
                ) from None
        return self.counts

    def seed_areas(self, nodes: list[SeedItem], parent: BodyArea | None, order: list[int]) -> None:
        for node in nodes:
            order[0] += 1
            area, _ = self.upsert(
                BodyArea,
                {"slug": node["slug"]},
                {
                    "name": node["name"],
                    "parent": parent,
                    "sort_order": order[0],
                    "description": node.get("description", ""),
                    "children_partial": bool(node.get("children_partial", False)),
                    "surface_percent": _decimal(node.get("surface_percent")),
                },
            )
            self.areas[area.slug] = area
            self.seed_areas(node.get("children", []), parent=area, order=order)

    def seed_vocabulary(self) -> None:
        for item in self.data.get("concerns", []):
            concern, _ = self.upsert(
                SkinConcern,
                {"slug": item["slug"]},
                {
                    "name": item["name"],
                    "description": item.get("description", ""),
                    "no_option_advice": item.get("no_option_advice", ""),
                },
            )
            self.concerns[concern.slug] = concern
        for item in self.data.get("conditions", []):
            condition, _ = self.upsert(
                MedicalCondition,
                {"slug": item["slug"]},
                {
                    "name": item["name"],
                    "kind": item["kind"],
                    "description": item.get("description", ""),
                    "area_specific": bool(item.get("area_specific", False)),
                    "intake_question": item.get("intake_question", ""),
                    "measure_name": (item.get("measure") or {}).get("name", ""),
                    "measure_unit": (item.get("measure") or {}).get("unit", ""),
                },
            )
            self.conditions[condition.slug] = condition

    def seed_sources(self) -> None:
        for key, item in (self.data.get("sources") or {}).items():
            row, _ = self.upsert(
                Source,
                {"key": key},
                {
                    "citation": item.get("citation", key),
                    "url": item.get("url", "") or "",
                    "grade": item.get("grade", ""),
                },
            )
            self.sources[key] = row

    def seed_consent_forms(self) -> None:
        for item in self.data.get("consent_forms", []):
            row, _ = self.upsert(
                ConsentForm,
                {"slug": item["slug"], "version": str(item.get("version", "1"))},
                {"title": item["title"], "body": item.get("body", "")},
            )
            self.forms[row.slug] = row

    def set_sources(
        self,
        row: Treatment | Protocol | ContraindicationRule | PatientRule | ProcedureGap | RecordField,
        item: SeedItem,
    ) -> None:
        row.sources.set([self.sources[key] for key in item.get("sources", []) if key in self.sources])

    @staticmethod
    def provenance(item: SeedItem) -> dict[str, Any]:
        return {
            "evidence": item.get("evidence", "") or "",
            "sources_disagree": bool(item.get("sources_disagree", False)),
            "note": item.get("note", "") or "",
        }

    def resource_type(self, slug: str) -> ResourceType:
        kind = ResourceType.Kind.ROOM if slug.endswith("room") else ResourceType.Kind.DEVICE
        row, _ = ResourceType.objects.get_or_create(
            slug=slug, defaults={"name": slug.replace("_", " ").capitalize(), "kind": kind}
        )
        return row

    def seed_treatments(self) -> None:
        items = self.data.get("treatments", [])
        for item in items:
            row, written = self.upsert(
                Treatment,
                {"slug": item["slug"]},
                {
                    "name": item["name"],
                    "kind": item["kind"],
                    "duration_minutes": item.get("duration_minutes", 60),
                    "buffer_minutes": item.get("buffer_minutes", 15),
                    "consent_form": self.forms.get(item.get("consent_form")),
                    "pre_care": _lines(item.get("pre_care")),
                    "aftercare": _lines(item.get("aftercare")),
                    **self.provenance(item),
                },
            )
            self.treatments[row.slug] = row
            if written:
                self.set_sources(row, item)
                row.needs.set([self.resource_type(slug) for slug in item.get("needs", [])])
        for item in items:
            row = self.treatments[item["slug"]]
            if not row.customized:
                row.components.set([self.treatments[slug] for slug in item.get("components", [])])

    def seed_groups(self) -> None:
        for item in self.data.get("groups", []):
            history = item.get("history_condition")
            row, written = self.upsert(
                TreatmentGroup,
                {"slug": item["slug"]},
                {"name": item["name"], "history_condition": self.conditions[history] if history else None},
            )
            self.groups[row.slug] = row
            if written:
                row.members.set([self.treatments[slug] for slug in item["members"]])

    def target(
        self, slug: str, treatment_field: str = "treatment", group_field: str = "group"
    ) -> dict[str, Treatment | TreatmentGroup | None]:
        if slug in self.treatments:
            return {treatment_field: self.treatments[slug], group_field: None}
        return {treatment_field: None, group_field: self.groups[slug]}

    def seed_protocols(self) -> None:
        for item in self.data.get("protocols", []):
            sessions, interval = item["sessions"], item["interval_days"]
            peel = (item.get("settings") or {}).get("peel") or {}
            concentration = peel.get("concentration_pct") or {}
            coats = peel.get("coats") or {}
            row, written = self.upsert(
                Protocol,
                {"concern": self.concerns[item["concern"]], "treatment": self.treatments[item["treatment"]]},
                {
                    "sessions_min": sessions["min"],
                    "sessions_default": sessions["default"],
                    "sessions_max": sessions["max"],
                    "interval_min_days": interval["min"],
                    "interval_typical_days": interval["typical"],
                    "interval_max_days": interval["max"],
                    "fitzpatrick": item.get("fitzpatrick", [1, 2, 3, 4, 5, 6]),
                    "preferred_fitzpatrick": item.get("preferred_fitzpatrick", []),
                    "weight": item.get("weight", 0),
                    "peel_agent": peel.get("agent", ""),
                    "concentration_min_pct": _decimal(concentration.get("min")),
                    "concentration_max_pct": _decimal(concentration.get("max")),
                    "concentration_by_fitzpatrick": peel.get("by_fitzpatrick") or {},
                    "coats_min": coats.get("min"),
                    "coats_max": coats.get("max"),
                    "maintenance": item.get("maintenance", "") or "",
                    "option_note": item.get("option_note", "") or "",
                    "preparation_days": item.get("preparation_days"),
                    **self.provenance(item),
                },
            )
            if not written:
                continue
            self.set_sources(row, item)
            row.areas.set([self.areas[slug] for slug in item["areas"]])
            depths = (item.get("settings") or {}).get("needle_depth_mm") or {}
            row.depths.exclude(area__slug__in=list(depths)).delete()
            for area_slug, bounds in depths.items():
                ProtocolDepth.objects.update_or_create(
                    protocol=row,
                    area=self.areas[area_slug],
                    defaults={"min_mm": bounds["min"], "max_mm": bounds["max"]},
                )

    def seed_contraindications(self) -> None:
        for item in self.data.get("contraindications", []):
            target = self.target(item["applies_to"])
            spread_to = item.get("spread_to")
            row, written = self.upsert(
                ContraindicationRule,
                {
                    "condition": self.conditions[item["condition"]],
                    "timing": item.get("timing", "ongoing"),
                    **target,
                },
                {
                    "severity": item["severity"],
                    "window_days": item.get("window_days"),
                    "until_resolved": bool(item.get("until_resolved", False)),
                    "area_limited": bool(item.get("area_limited", False)),
                    "spread_to": self.areas[spread_to] if spread_to else None,
                    "text": item["text"],
                    "hold_days": item.get("hold_days"),
                    "hold_days_by_fitzpatrick": {
                        str(k): v for k, v in (item.get("hold_days_by_fitzpatrick") or {}).items()
                    },
                    "lead_days": item.get("lead_days"),
                    "lead_moves_start": bool(item.get("lead_moves_start", False)),
                    "pre_care": item.get("pre_care", "") or "",
                    "item_note": item.get("item_note", "") or "",
                    "value_below": _decimal(item.get("value_below")),
                    "critical_below": _decimal(item.get("critical_below")),
                    "critical_text": item.get("critical_text", "") or "",
                    **self.provenance(item),
                },
            )
            if written:
                self.set_sources(row, item)

    def seed_patient_rules(self) -> None:
        for item in self.data.get("patient_rules", []):
            row, written = self.upsert(
                PatientRule,
                {
                    "fact": item["fact"],
                    "min_value": item.get("min"),
                    "max_value": item.get("max"),
                    **self.target(item["applies_to"]),
                },
                {"severity": item["severity"], "text": item["text"], **self.provenance(item)},
            )
            if written:
                self.set_sources(row, item)

    def seed_gaps(self) -> None:
        for item in self.data.get("procedure_gaps", []):
            key = {
                **self.target(item["from"], "from_treatment", "from_group"),
                **self.target(item["to"], "to_treatment", "to_group"),
            }
            row, written = self.upsert(
                ProcedureGap,
                key,
                {
                    "min_days": item["min_days"],
                    "recommended_days": item.get("recommended_days") or item["min_days"],
                    **self.provenance(item),
                },
            )
            if written:
                self.set_sources(row, item)

    def seed_record_fields(self) -> None:
        for item in self.data.get("record_fields", []):
            row, written = self.upsert(
                RecordField,
                {"key": item["key"], **self.target(item["applies_to"])},
                {
                    "label": item["label"],
                    "kind": item["kind"],
                    "unit": item.get("unit", "") or "",
                    "choices": [list(choice) for choice in item.get("choices") or []],
                    "required": bool(item.get("required", True)),
                    "min_value": _decimal(item.get("min")),
                    "max_value": _decimal(item.get("max")),
                    "max_length": item.get("max_length"),
                    "safe_min": _decimal(item.get("safe_min")),
                    "safe_max": _decimal(item.get("safe_max")),
                    "linked_to": item.get("linked_to", "") or "",
                    "help_text": item.get("help_text", "") or "",
                    "order": item.get("order", 0),
                    **self.provenance(item),
                },
            )
            if written:
                self.set_sources(row, item)


def seed_catalog(data: SeedData | None = None) -> Counter[str]:
    return Seeder(data if data is not None else load_seed_data()).run()
