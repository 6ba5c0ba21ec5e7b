"""The plan engine: a patient profile and the catalog in, a suggested session plan out.

Pure: plain data in and out (shared/domain/plan-api.md, docs/catalog-format.md), `today` comes in
the profile. Every clinical decision comes from the catalog data.
"""

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, cast

from treatments.engine.areas import AreaTree
from treatments.engine.care import care_union
from treatments.engine.plan_results import (
    Bounds,
    Exclusion,
    IntervalDays,
    Limit,
    Option,
    OptionStatus,
    PeelSettings,
    PlanItem,
    Procedure,
    ProtocolSettings,
    Reason,
    Series,
    SessionCount,
    Severity,
    Suggestion,
    TreatmentCheck,
    Visit,
)
from treatments.engine.profile_validation import Profile, parse_date, validate_profile

__all__ = [
    "Catalog",
    "check_treatment",
    "layout_visits",
    "prepare_catalog",
    "suggest_plan",
    "validate_profile",
]

# A row of the catalog snapshot (docs/catalog-format.md): plain JSON that an admin edits.
CatalogRow = dict[str, Any]

GRADE_SCORE = {"A": 4, "A/B": 3.5, "B": 3, "B/C": 2.5, "C": 2, "C/D": 1.5, "D": 1}
PREFERRED_BONUS = 0.5
STATUS_ORDER = {OptionStatus.OK: 0, OptionStatus.NEEDS_CLEARANCE: 1, OptionStatus.DEFERRED: 2}
SEVERITY_ORDER = {Severity.PRECAUTION: 0, Severity.RELATIVE: 1, Severity.ABSOLUTE: 2}
LIMIT_ORDER = {Limit.FLAG: 0, Limit.CLEARANCE: 1, Limit.DEFER: 2, Limit.EXCLUDE: 3}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


class Catalog:
    """The catalog indexed once, so that many suggestions can be made from it quickly."""

    def __init__(self, data: CatalogRow) -> None:
        self.data = data
        self.tree = AreaTree(data.get("areas", []))
        self.concerns: dict[str, CatalogRow] = {c["slug"]: c for c in data.get("concerns", [])}
        self.conditions: dict[str, CatalogRow] = {c["slug"]: c for c in data.get("conditions", [])}
        self.treatments: dict[str, CatalogRow] = {t["slug"]: t for t in data.get("treatments", [])}
        self.groups: dict[str, set[str]] = {g["slug"]: set(g["members"]) for g in data.get("groups", [])}
        self.protocols: dict[str, list[CatalogRow]] = {}
        for protocol in data.get("protocols", []):
            if protocol["treatment"] in self.treatments:
                self.protocols.setdefault(protocol["concern"], []).append(protocol)
        self.rules: dict[str, list[CatalogRow]] = {}
        for rule in data.get("contraindications", []):
            self.rules.setdefault(rule["condition"], []).append(rule)
        rules = data.get("patient_rules", [])
        self.patient_rules: list[CatalogRow] = [r for r in rules if r["fact"] != "surface"]
        # Rules on the body surface treated in one session (salicylism from a peel over a large area).
        self.surface_rules: list[CatalogRow] = [r for r in rules if r["fact"] == "surface"]
        self.gaps: list[CatalogRow] = data.get("procedure_gaps", [])
        self._parts = {slug: self._parts_of(slug, set()) for slug in self.treatments}
        self._applies: dict[tuple[str, str], bool] = {}
        self._care: dict[tuple[str, str], tuple[str, ...]] = {}

    def _parts_of(self, slug: str, seen: set[str]) -> set[str]:
        parts = {slug}
        for component in self.treatments.get(slug, {}).get("components", []):
            if component not in seen:
                parts |= self._parts_of(component, seen | {slug})
        return parts

    def applies(self, target: str, treatment: str) -> bool:
        """Whether a rule naming `target` (treatment or group) applies to `treatment` or its parts."""
        key = (target, treatment)
        if key not in self._applies:
            parts = self._parts.get(treatment, {treatment})
            self._applies[key] = target in parts or bool(self.groups.get(target, set()) & parts)
        return self._applies[key]

    def care(self, treatment: str, kind: str) -> tuple[str, ...]:
        """A treatment's own `kind` lines (pre_care or aftercare), then its components', each once,
        with their tags (so that a rule's tagged line can still replace one)."""
        key = (treatment, kind)
        if key not in self._care:
            self._care[key] = care_union(*self._care_groups(treatment, kind, set()), keep_tags=True)
        return self._care[key]

    def _care_groups(self, slug: str, kind: str, seen: set[str]) -> list[list[str]]:
        row = self.treatments.get(slug, {})
        groups = [list(row.get(kind) or [])]
        for component in row.get("components", []):
            if component not in seen:
                groups += self._care_groups(component, kind, seen | {slug})
        return groups

    def gap_days(self, first: str, then: str) -> int:
        return max(
            (
                g["min_days"]
                for g in self.gaps
                if self.applies(g["from"], first) and self.applies(g["to"], then)
            ),
            default=0,
        )

    def name(self, treatment: str) -> str:
        return str(self.treatments.get(treatment, {}).get("name", treatment))

    def condition_name(self, slug: str) -> str:
        if slug == "fitzpatrick":
            return "skin type"
        return str(self.conditions.get(slug, {}).get("name", slug))

    def area_names(self, areas: Iterable[str]) -> str:
        return ", ".join(self.tree.names.get(a, a) for a in areas)


def prepare_catalog(data: CatalogRow | Catalog) -> Catalog:
    return data if isinstance(data, Catalog) else Catalog(data)


@dataclass(frozen=True)
class HistoryRecord:
    """One dated record of the patient's medical history, as the engine reads it."""

    condition: str
    areas: tuple[str, ...]
    since: date | None
    until: date | None
    value: float | None = None  # a measured condition's value (e.g. the platelet count)


@dataclass(frozen=True)
class PatientFacts:
    fitzpatrick: int | None  # unknown only in a booking's recheck
    age: int | None


@dataclass(frozen=True)
class Verdict:
    """What one rule says about one treatment: a reason, and how it limits the option."""

    code: str
    severity: Severity
    text: str
    limit: Limit
    until: date | None = None
    unresolved: bool = False
    areas: tuple[str, ...] = ()  # empty: everywhere
    cleared_by: str = ""
    # Preparation: the first session is not before this day (a hold, a lead time), whatever the status.
    start_from: date | None = None
    pre_care: str = ""  # a template: {stop_by}, {days}, {start_on}
    hold_days: int = 0
    lead_days: int = 0
    item_note: str = ""

    def reason(self) -> Reason:
        return Reason(code=self.code, severity=self.severity, text=self.text)

    def strictness(self) -> tuple[int, int, date, date]:
        return (
            LIMIT_ORDER[self.limit],
            SEVERITY_ORDER[self.severity],
            self.until or date.min,
            self.start_from or date.min,
        )


def merged_per_condition(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """One verdict per condition, the strictest (a combination meets a rule once per component)."""
    chosen: dict[str, Verdict] = {}
    for verdict in verdicts:
        kept = chosen.get(verdict.code)
        # Ties are broken by the text, so that the catalog's row order never changes the plan.
        if kept is None or (verdict.strictness(), kept.text) > (kept.strictness(), verdict.text):
            chosen[verdict.code] = verdict
    return list(chosen.values())


def _ongoing(record: HistoryRecord, today: date) -> bool:
    return record.until is None or record.until > today


def _rule_window(rule: CatalogRow, record: HistoryRecord, today: date) -> tuple[bool, date | None, bool]:
    """(applies, until date or None, unresolved) for one rule and one history record."""
    timing = rule.get("timing", "ongoing")
    window = timedelta(days=rule.get("window_days") or 0)
    if timing == "after_event":
        if record.since is None:
            return True, None, True
        dates = [record.since + window] if today < record.since + window else []
        unresolved = False
        if rule.get("until_resolved"):
            # Still present (a sunburn not yet recorded as healed) defers until someone records it.
            if record.until is None:
                unresolved = True
            elif record.until > today:
                dates.append(record.until)
        return bool(dates) or unresolved, max(dates, default=None), unresolved
    if timing == "after_end":
        if record.until is None:
            return True, None, True
        end = record.until + window
        return today < end, end, False
    if not _ongoing(record, today):
        return False, None, False
    if rule.get("until_resolved"):
        return True, record.until, record.until is None
    return True, None, False


def _limit(severity: Severity, deferring: bool) -> Limit:
    if severity == Severity.PRECAUTION:
        return Limit.FLAG
    if severity == Severity.ABSOLUTE:
        return Limit.DEFER if deferring else Limit.EXCLUDE
    return Limit.DEFER if deferring else Limit.CLEARANCE


def _record_areas(rule: CatalogRow, record: HistoryRecord, tree: AreaTree) -> tuple[str, ...]:
    if not rule.get("area_limited") or not record.areas:
        return ()
    areas = set(record.areas)
    spread = rule.get("spread_to")
    if spread and any(tree.contains(spread, area) for area in areas):
        areas.add(spread)
    return tuple(sorted(areas))


def _hold_days(rule: CatalogRow, fitzpatrick: int | None) -> int:
    by_skin = rule.get("hold_days_by_fitzpatrick") or {}
    return int(by_skin.get(str(fitzpatrick)) or rule.get("hold_days") or 0)


def _hold_end(record: HistoryRecord, hold: int, today: date) -> date | None:
    """The first day after a preparation hold, if the hold still matters: stopped on `until` (past
    or planned), or today when still ongoing."""
    stop = record.until if record.until is not None else today
    end = stop + timedelta(days=hold)
    return end if end > today else None


def _value_severity(rule: CatalogRow, record: HistoryRecord) -> tuple[bool, bool]:
    """(applies, critical) for a rule on a measured value; no value recorded: as written."""
    if record.value is None:
        return True, False
    below = rule.get("value_below")
    if below is not None and record.value >= float(below):
        return False, False
    critical = rule.get("critical_below")
    return True, critical is not None and record.value < float(critical)


def condition_verdicts(
    catalog: Catalog,
    treatment: str,
    records: Iterable[HistoryRecord],
    today: date,
    *,
    fitzpatrick: int | None = None,
) -> list[Verdict]:
    verdicts = []
    for record in records:
        for rule in catalog.rules.get(record.condition, []):
            if not catalog.applies(rule["applies_to"], treatment):
                continue
            measured, critical = _value_severity(rule, record)
            if not measured:
                continue
            hold = _hold_days(rule, fitzpatrick)
            start_from: date | None = None
            if hold:
                start_from = _hold_end(record, hold, today)
                if start_from is None:
                    continue
                applies, until, unresolved = True, None, False
            else:
                applies, until, unresolved = _rule_window(rule, record, today)
            if not applies:
                continue
            deferring = bool(
                rule.get("until_resolved") or rule.get("window_days") or rule.get("timing") != "ongoing"
            )
            severity = Severity(rule["severity"])
            text = rule["text"]
            if critical:
                severity, text = Severity.ABSOLUTE, rule.get("critical_text") or text
            if hold and severity != Severity.PRECAUTION:
                # A hold that must be kept defers the option to the day after it.
                deferring, until, start_from = True, start_from, None
            lead = int(rule.get("lead_days") or 0)
            if lead and rule.get("lead_moves_start"):
                start_from = max(start_from or today, today + timedelta(days=lead))
            verdicts.append(
                Verdict(
                    code=record.condition,
                    severity=severity,
                    text=text,
                    limit=_limit(severity, deferring),
                    until=until if until and until > today else None,
                    unresolved=unresolved,
                    areas=_record_areas(rule, record, catalog.tree),
                    start_from=start_from,
                    pre_care=rule.get("pre_care") or "",
                    hold_days=hold,
                    lead_days=lead,
                    item_note=rule.get("item_note") or "",
                )
            )
    return verdicts


def patient_verdicts(catalog: Catalog, protocol: CatalogRow, patient: PatientFacts) -> list[Verdict]:
    treatment = protocol["treatment"]
    verdicts = []
    skin = patient.fitzpatrick
    if skin is not None and skin not in protocol.get("fitzpatrick", list(ROMAN)):
        verdicts.append(
            Verdict(
                "fitzpatrick",
                Severity.ABSOLUTE,
                f"{catalog.name(treatment)} is not offered for skin type {ROMAN[skin]} for this concern.",
                Limit.EXCLUDE,
            )
        )
    for rule in catalog.patient_rules:
        if not catalog.applies(rule["applies_to"], treatment):
            continue
        value = patient.fitzpatrick if rule["fact"] == "fitzpatrick" else patient.age
        if value is None:
            continue
        low, high = rule.get("min"), rule.get("max")
        if (low is None or value >= low) and (high is None or value <= high):
            severity = Severity(rule["severity"])
            verdicts.append(Verdict(rule["fact"], severity, rule["text"], _limit(severity, False)))
    return verdicts


def surface_verdicts(catalog: Catalog, treatment: str, areas: Iterable[str]) -> list[Verdict]:
    """What the catalog says about treating `areas` in one session with `treatment`."""
    verdicts = []
    share: float | None = None
    for rule in catalog.surface_rules:
        if not catalog.applies(rule["applies_to"], treatment):
            continue
        if share is None:
            share = catalog.tree.surface_of(areas)
        low, high = rule.get("min"), rule.get("max")
        if (low is None or share >= low) and (high is None or share <= high):
            severity = Severity(rule["severity"])
            text = rule["text"].format_map(_Fill(percent=f"{share:g}"))
            verdicts.append(Verdict("body_surface", severity, text, _limit(severity, False)))
    return verdicts


Clearances = Mapping[tuple[str, str], CatalogRow]


def _clearances(profile: Profile) -> dict[tuple[str, str], CatalogRow]:
    return {(c["treatment"], c["condition"]): c for c in profile.get("cleared") or []}


def _apply_clearances(verdicts: Iterable[Verdict], treatment: str, cleared: Clearances) -> list[Verdict]:
    applied = []
    for verdict in verdicts:
        clearance = cleared.get((treatment, verdict.code))
        if clearance and verdict.severity == Severity.RELATIVE:
            by = clearance.get("by") or "a clinician"
            verdict = replace(
                verdict,
                limit=Limit.FLAG,
                cleared_by=by,
                text=f"{verdict.text} Cleared by {by}: {clearance['reason']}",
            )
        applied.append(verdict)
    return applied


def _age(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _settings(
    catalog: Catalog, protocol: CatalogRow, areas: Iterable[str], fitzpatrick: int | None
) -> ProtocolSettings:
    """The protocol's settings resolved for these areas and this skin type."""
    settings: ProtocolSettings = {}
    depths = (protocol.get("settings") or {}).get("needle_depth_mm") or {}
    if depths:
        chosen: dict[str, Bounds] = {}
        for area in areas:
            above = next((a for a in catalog.tree.ancestors(area) if a in depths), None)
            if above is not None:
                chosen[area] = cast(Bounds, dict(depths[above]))
            else:
                for below in catalog.tree.descendants(area):
                    if below in depths:
                        chosen[below] = cast(Bounds, dict(depths[below]))
        if chosen:
            settings["needle_depth_mm"] = chosen
    peel = (protocol.get("settings") or {}).get("peel")
    if peel:
        resolved: PeelSettings = {"agent": peel.get("agent", "")}
        strength = (peel.get("by_fitzpatrick") or {}).get(str(fitzpatrick)) or peel.get("concentration_pct")
        if strength:
            resolved["concentration_pct"] = cast(Bounds, dict(strength))
        if peel.get("coats"):
            resolved["coats"] = cast(Bounds, dict(peel["coats"]))
        settings["peel"] = resolved
    return settings


def _score(protocol: CatalogRow, fitzpatrick: int | None) -> float:
    score = GRADE_SCORE.get(protocol.get("evidence", ""), 0) + float(protocol.get("weight") or 0)
    if fitzpatrick in protocol.get("preferred_fitzpatrick", []):
        score += PREFERRED_BONUS
    return score


def _reaches(verdict: Verdict, area: str, tree: AreaTree, rest: bool = False) -> bool:
    if not verdict.areas:
        return True
    if rest:
        # The rest of an area is reached only by a record on the area itself or around it.
        return any(tree.contains(a, area) for a in verdict.areas)
    return any(tree.overlaps(area, a) for a in verdict.areas)


def _verdicts_for(
    area: str, verdicts: Iterable[Verdict], tree: AreaTree, rest: bool = False
) -> list[Verdict]:
    return [v for v in verdicts if _reaches(v, area, tree, rest)]


Signature = tuple[tuple[str, str, str, str, str, bool, str], ...]


def _signature(verdicts: Iterable[Verdict]) -> Signature:
    # Dates as text: one condition recorded twice (one open, one closed) must still sort.
    return tuple(
        sorted(
            (
                v.code,
                v.severity,
                v.limit,
                v.text,
                v.until.isoformat() if v.until else "",
                v.unresolved,
                v.start_from.isoformat() if v.start_from else "",
            )
            for v in verdicts
        )
    )


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _rule_pre_care(verdicts: Iterable[Verdict], earliest: date | None) -> list[str]:
    """The dated preparation lines of the rules (stop X by..., start the antiviral on...)."""
    lines = []
    for verdict in merged_per_condition(v for v in verdicts if v.pre_care):
        days = verdict.hold_days or verdict.lead_days
        fill = _Fill(days=str(days))
        if earliest is not None:
            fill["stop_by"] = day_text(earliest - timedelta(days=verdict.hold_days))
            fill["start_on"] = day_text(earliest - timedelta(days=verdict.lead_days))
        else:
            fill["stop_by"] = fill["start_on"] = f"{days} days before the first session"
        lines.append(verdict.pre_care.format_map(fill))
    return lines


def _option(
    catalog: Catalog,
    protocol: CatalogRow,
    areas: Sequence[str],
    verdicts: Sequence[Verdict],
    patient: PatientFacts,
    today: date,
    notes: Sequence[str] = (),
) -> Option | Exclusion:
    slug = protocol["treatment"]
    limits = {v.limit for v in verdicts}
    merged = merged_per_condition(verdicts)
    if Limit.EXCLUDE in limits:
        return Exclusion(
            treatment=slug,
            areas=tuple(areas),
            reasons=tuple(v.reason() for v in merged if v.limit != Limit.FLAG),
        )
    deferrals = [v for v in verdicts if v.limit == Limit.DEFER]
    dates = [v.until for v in deferrals if v.until]
    starts = [v.start_from for v in verdicts if v.start_from]
    preparation = int(protocol.get("preparation_days") or 0)
    if preparation:
        starts.append(today + timedelta(days=preparation))
    earliest: date | None
    if deferrals:
        status = OptionStatus.DEFERRED
        earliest = max(dates + starts) if dates else None
    elif Limit.CLEARANCE in limits:
        status, earliest = OptionStatus.NEEDS_CLEARANCE, max([today, *starts])
    else:
        status, earliest = OptionStatus.OK, max([today, *starts])
    option_note = protocol.get("option_note") or ""
    return Option(
        treatment=slug,
        areas=tuple(areas),
        rank=0,
        status=status,
        earliest_start=earliest,
        until_resolved=tuple(sorted({v.code for v in deferrals if v.unresolved})),
        sessions=SessionCount.from_json(protocol["sessions"]),
        interval_days=IntervalDays.from_json(protocol["interval_days"]),
        settings=_settings(catalog, protocol, areas, patient.fitzpatrick),
        evidence=protocol.get("evidence", ""),
        flags=tuple(v.reason() for v in merged),
        pre_care=care_union(_rule_pre_care(verdicts, earliest), catalog.care(slug, "pre_care")),
        aftercare=care_union(catalog.care(slug, "aftercare")),
        maintenance=protocol.get("maintenance") or "",
        notes=tuple(n for n in (option_note, *notes) if n),
    )


def _notes(
    catalog: Catalog,
    concern: str,
    options: Sequence[Option],
    excluded: Sequence[Exclusion],
    has_protocols: bool,
    rule_notes: Sequence[str],
) -> list[str]:
    advice = catalog.concerns.get(concern, {}).get("no_option_advice", "")
    if not has_protocols:
        return [advice or "No treatment in the catalog addresses this concern; refer to a dermatologist."]
    notes = list(dict.fromkeys(rule_notes))
    blocked = [e for e in excluded if any(r.code != "area" for r in e.reasons)]
    if not options:
        reasons = sorted({catalog.condition_name(r.code) for e in excluded for r in e.reasons})
        notes.append(
            f"Nothing can be offered for this concern now ({', '.join(reasons)}): a physician must review."
            + (f" {advice}" if advice else "")
        )
    elif blocked:
        names = sorted({catalog.name(e.treatment) for e in blocked})
        reasons = sorted({catalog.condition_name(r.code) for e in blocked for r in e.reasons})
        notes.append(
            f"Not offered: {', '.join(names)} ({', '.join(reasons)}). The options listed remain; "
            "a physician may review if they are not suitable."
        )
    if options and options[0].evidence == "D":
        notes.append("Limited evidence for the best available option: set expectations accordingly.")
    return notes


def _causes(catalog: Catalog, option: Option) -> str:
    codes = [f.code for f in option.flags if f.severity != Severity.PRECAUTION and "Cleared by" not in f.text]
    return ", ".join(dict.fromkeys(catalog.condition_name(code) for code in codes))


def _where(catalog: Catalog, option: Option, rest: Mapping[tuple[str, tuple[str, ...]], set[str]]) -> str:
    partial = rest.get((option.treatment, option.areas), set())
    return ", ".join(
        f"the rest of the {catalog.tree.names.get(a, a).lower()} area"
        if a in partial
        else catalog.tree.names.get(a, a)
        for a in option.areas
    )


def _state(catalog: Catalog, option: Option) -> str:
    causes = _causes(catalog, option)
    because = f" ({causes})" if causes else ""
    if option.status == OptionStatus.NEEDS_CLEARANCE:
        return f"needs a clinician's clearance{because}"
    if option.earliest_start is not None:
        return f"deferred until {day_text(option.earliest_start)}{because}"
    return f"deferred until {causes or 'a condition'} is resolved"


def _clearable(option: Option) -> bool:
    """Whether every condition holding the option back is relative (a clearance would lift it)."""
    severities = {f.code: f.severity for f in option.flags}
    return bool(option.until_resolved) and all(
        severities.get(code) == Severity.RELATIVE for code in option.until_resolved
    )


def _summary(
    catalog: Catalog,
    options: Sequence[Option],
    notes: Sequence[str],
    rule_notes: Sequence[str],
    has_protocols: bool,
    rest: Mapping[tuple[str, tuple[str, ...]], set[str]],
) -> str:
    """One line a clinician reads first: when the best option that can start starts, and what waits."""
    if not has_protocols or not options:
        return notes[0] if notes else ""
    ready = [o for o in options if o.status == OptionStatus.OK]
    if ready:
        best = ready[0]
        start = best.earliest_start
        line = f"Ready from {day_text(start) if start else 'now'}: {catalog.name(best.treatment)}"
        others = [o for o in options if o.treatment == best.treatment and o.status != OptionStatus.OK]
        if others:
            line += f" on {_where(catalog, best, rest)}"
            line += "".join(f"; {_where(catalog, o, rest)} {_state(catalog, o)}" for o in others)
        top = options[0]
        if top.treatment != best.treatment:
            line += f". Best supported, {catalog.name(top.treatment)}: {_state(catalog, top)}"
        return line + "."
    dated = [o for o in options if o.status == OptionStatus.DEFERRED and o.earliest_start]
    if dated:
        first = min(dated, key=lambda o: (o.earliest_start or date.max, o.rank))
        return f"Nothing before {day_text(first.earliest_start or date.max)}: {catalog.name(first.treatment)} {_state(catalog, first)}."
    clearance = [o for o in options if o.status == OptionStatus.NEEDS_CLEARANCE]
    if clearance:
        return f"Only with a clinician's clearance first: {catalog.name(clearance[0].treatment)} {_state(catalog, clearance[0])}."
    causes = ", ".join(dict.fromkeys(c for o in options for c in _causes(catalog, o).split(", ") if c))
    line = f"Nothing can be offered until resolved ({causes})" if causes else "Nothing can be offered now"
    if causes and any(_clearable(o) for o in options):
        line += " or a clinician records a clearance"
    line += "."
    # The first note of the rules that block (e.g. refer); every note stays in `notes`.
    return " ".join([line, *list(dict.fromkeys(rule_notes))[:1]])


def _item(
    catalog: Catalog,
    concern_row: CatalogRow,
    patient: PatientFacts,
    records: Sequence[HistoryRecord],
    cleared: Clearances,
    today: date,
) -> PlanItem:
    concern = concern_row["concern"]
    wanted = list(concern_row.get("areas") or [])
    protocols = catalog.protocols.get(concern, [])
    scored: list[tuple[float, str, int, int, Option]] = []
    excluded: list[Exclusion] = []
    rule_notes: list[str] = []
    rest: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    tree = catalog.tree
    for protocol in protocols:
        if wanted:
            covered = [a for a in wanted if any(tree.contains(p, a) for p in protocol["areas"])]
            uncovered = [a for a in wanted if a not in covered]
        else:
            covered, uncovered = list(protocol["areas"]), []
        if uncovered:
            excluded.append(
                Exclusion(
                    treatment=protocol["treatment"],
                    areas=tuple(uncovered),
                    reasons=(
                        Reason(
                            code="area",
                            severity=Severity.ABSOLUTE,
                            text=f"{catalog.name(protocol['treatment'])} is not offered on "
                            f"{catalog.area_names(uncovered)} for this concern.",
                        ),
                    ),
                )
            )
        if not covered:
            continue
        verdicts = condition_verdicts(
            catalog, protocol["treatment"], records, today, fitzpatrick=patient.fitzpatrick
        )
        verdicts += patient_verdicts(catalog, protocol, patient)
        verdicts = _apply_clearances(verdicts, protocol["treatment"], cleared)
        blockers = sorted({a for v in verdicts for a in v.areas})
        groups: dict[Signature, tuple[list[Verdict], list[tuple[str, bool]]]] = {}
        for area in covered:
            for part, is_rest in tree.split_parts(area, blockers):
                applying = _verdicts_for(part, verdicts, tree, is_rest)
                groups.setdefault(_signature(applying), (applying, []))[1].append((part, is_rest))
        for applying, parts in groups.values():
            rule_notes += [v.item_note for v in applying if v.item_note]
            notes = []
            partial: set[str] = set()
            for whole in tree.sort(p for p, is_rest in parts if is_rest):
                elsewhere = [
                    p
                    for _, other in groups.values()
                    if other is not parts
                    for p, _ in other
                    if p != whole and tree.contains(whole, p)
                ]
                if not elsewhere:
                    # Every part of it is treated alike: name the area once.
                    parts[:] = [(p, r) for p, r in parts if p == whole or not tree.contains(whole, p)]
                    continue
                partial.add(whole)
                notes.append(
                    f"{tree.names.get(whole, whole)}: all of it except {catalog.area_names(tree.sort(elsewhere))}."
                )
            areas = tree.sort(p for p, _ in parts)
            applying = applying + surface_verdicts(catalog, protocol["treatment"], areas)
            found = _option(catalog, protocol, areas, applying, patient, today, notes)
            if isinstance(found, Exclusion):
                excluded.append(found)
            else:
                rest[(found.treatment, found.areas)] = partial
                scored.append(
                    (
                        -_score(protocol, patient.fitzpatrick),
                        protocol["treatment"],
                        STATUS_ORDER[found.status],
                        len(scored),
                        found,
                    )
                )
    scored.sort(key=lambda entry: entry[:4])
    options = [replace(entry[4], rank=rank) for rank, entry in enumerate(scored, start=1)]
    rule_notes = sorted(set(rule_notes))  # the catalog's row order must not change the plan
    notes = _notes(catalog, concern, options, excluded, bool(protocols), rule_notes)
    return PlanItem(
        concern=concern,
        areas=tuple(wanted),
        options=tuple(options),
        excluded=tuple(excluded),
        notes=tuple(notes),
        summary=_summary(catalog, options, notes, rule_notes, bool(protocols), rest),
    )


def _records(profile: Profile) -> list[HistoryRecord]:
    return [
        HistoryRecord(
            condition=row["condition"],
            areas=tuple(row.get("areas") or []),
            since=parse_date(row.get("since")),
            until=parse_date(row.get("until")),
            value=_number(row.get("value")),
        )
        for row in profile.get("conditions") or []
    ]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _patient(row: dict[str, Any], today: date) -> PatientFacts:
    birth_date = parse_date(row["birth_date"])
    return PatientFacts(fitzpatrick=row["fitzpatrick"], age=_age(birth_date, today) if birth_date else None)


def _today(profile: Profile) -> date:
    today = parse_date(profile["today"])
    if today is None:
        raise ValueError("profile.today: not a date (validate the profile first)")
    return today


def suggest_plan(profile: Profile, catalog: CatalogRow | Catalog) -> Suggestion:
    """The plan for a valid profile (see validate_profile)."""
    catalog = prepare_catalog(catalog)
    today = _today(profile)
    patient = _patient(profile["patient"], today)
    records = _records(profile)
    cleared = _clearances(profile)
    items = [_item(catalog, row, patient, records, cleared, today) for row in profile.get("concerns") or []]
    series = []
    for item in items:
        schedulable = [o for o in item.options if o.schedulable]
        if not schedulable:
            continue
        # The best treatment, on every part of the concern's area where it can be scheduled: the
        # part a condition defers starts later, the rest starts now.
        best = schedulable[0].treatment
        for option in (o for o in schedulable if o.treatment == best):
            series.append(
                Series(
                    treatment=option.treatment,
                    areas=option.areas,
                    sessions=option.sessions.default,
                    interval_days=option.interval_days,
                    earliest_start=option.earliest_start,
                )
            )
    return Suggestion(
        today=today, items=tuple(items), visits=tuple(layout_visits(series, catalog, today=today))
    )


def check_treatment(
    profile: Profile, catalog: CatalogRow | Catalog, treatment: str, areas: Iterable[str]
) -> TreatmentCheck:
    """Whether `treatment` may be done on `areas` on the profile's `today` (a booking's recheck).

    The reasons are the blocking ones, the flags the precautions.
    """
    catalog = prepare_catalog(catalog)
    today = _today(profile)
    patient = _patient(profile["patient"], today)
    verdicts = condition_verdicts(
        catalog, treatment, _records(profile), today, fitzpatrick=patient.fitzpatrick
    )
    protocols = [p for ps in catalog.protocols.values() for p in ps if p["treatment"] == treatment]
    suits = [p for p in protocols if patient.fitzpatrick in p.get("fitzpatrick", list(ROMAN))]
    # Skin type is judged per protocol; without a concern, any protocol that suits will do.
    fitting = (suits or protocols or [{"treatment": treatment}])[0]
    verdicts += patient_verdicts(catalog, fitting, patient)
    areas = list(areas)
    verdicts += surface_verdicts(catalog, treatment, areas)
    verdicts = _apply_clearances(verdicts, treatment, _clearances(profile))
    wanted: list[str | None] = [*areas] or [None]
    # Keyed by position: a condition recorded twice gives its reason twice, as it always has.
    applying = {
        index: verdict
        for area in wanted
        for index, verdict in enumerate(verdicts)
        if area is None or _reaches(verdict, area, catalog.tree)
    }
    blocking = [v for v in applying.values() if v.limit != Limit.FLAG]
    limits = {v.limit for v in blocking}
    deferrals = [v for v in blocking if v.limit == Limit.DEFER]
    if Limit.EXCLUDE in limits:
        status = OptionStatus.EXCLUDED
    elif deferrals:
        status = OptionStatus.DEFERRED
    elif Limit.CLEARANCE in limits:
        status = OptionStatus.NEEDS_CLEARANCE
    else:
        status = OptionStatus.OK
    dates = [v.until for v in deferrals if v.until]
    return TreatmentCheck(
        status=status,
        reasons=tuple(v.reason() for v in blocking),
        flags=tuple(v.reason() for v in applying.values() if v.limit == Limit.FLAG),
        earliest_start=max(dates) if dates else None,
        until_resolved=tuple(sorted({v.code for v in deferrals if v.unresolved})),
    )


@dataclass(order=True)
class _Next:
    when: date
    order: int
    series: Series = field(compare=False)
    session: int = field(compare=False, default=1)
    latest: date = field(compare=False, default=date.min)


@dataclass(frozen=True)
class _Placed:
    day: date
    series: Series
    session: int
    latest: date


def _merge_series(series: Iterable[Series], tree: AreaTree, today: date) -> list[Series]:
    merged: list[Series] = []
    for entry in series:
        entry = replace(entry, earliest_start=max(entry.earliest_start or today, today))
        index = next(
            (
                i
                for i, m in enumerate(merged)
                if m.treatment == entry.treatment
                and any(tree.overlaps(a, b) for a in m.areas for b in entry.areas)
            ),
            None,
        )
        if index is None:
            merged.append(entry)
        else:
            same = merged[index]
            merged[index] = replace(
                same,
                areas=tuple(tree.sort([*same.areas, *entry.areas])),
                sessions=max(same.sessions, entry.sessions),
                earliest_start=max(same.earliest_start or today, entry.earliest_start or today),
            )
    return merged


def layout_visits(series: Iterable[Series], catalog: CatalogRow | Catalog, *, today: date) -> list[Visit]:
    """Lay out series of sessions as dated visit windows.

    Sessions are placed in date order; a session waits for every catalog gap after a different
    procedure on overlapping areas. Procedures placed on the same day share a visit.
    """
    catalog = prepare_catalog(catalog)
    tree = catalog.tree
    queue: list[_Next] = []
    for order, entry in enumerate(_merge_series(series, tree, today)):
        start = entry.earliest_start or today
        heapq.heappush(queue, _Next(start, order, entry, 1, start))
    placed: list[_Placed] = []
    while queue:
        nxt = heapq.heappop(queue)
        entry = nxt.series
        required = nxt.when
        for done in placed:
            if done.series.treatment == entry.treatment:
                continue
            if not any(tree.overlaps(a, b) for a in done.series.areas for b in entry.areas):
                continue
            gap = catalog.gap_days(done.series.treatment, entry.treatment)
            if done.day == required:
                gap = max(gap, catalog.gap_days(entry.treatment, done.series.treatment))
            required = max(required, done.day + timedelta(days=gap))
        if required > nxt.when:
            heapq.heappush(queue, _Next(required, nxt.order, entry, nxt.session, nxt.latest))
            continue
        placed.append(_Placed(required, entry, nxt.session, max(nxt.latest, required)))
        if nxt.session < entry.sessions:
            interval = entry.interval_days
            heapq.heappush(
                queue,
                _Next(
                    required + timedelta(days=interval.typical),
                    nxt.order,
                    entry,
                    nxt.session + 1,
                    required + timedelta(days=interval.max),
                ),
            )
    visits: dict[date, list[_Placed]] = {}
    for procedure in placed:
        visits.setdefault(procedure.day, []).append(procedure)
    return [
        Visit(
            number=number,
            earliest=day,
            latest=min(p.latest for p in procedures),
            procedures=tuple(Procedure(p.series.treatment, p.series.areas, p.session) for p in procedures),
        )
        for number, (day, procedures) in enumerate(sorted(visits.items()), start=1)
    ]
