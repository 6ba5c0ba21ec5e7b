"""The plan engine: a patient profile and the catalog in, a suggested session plan out.

Pure: plain data in and out (shared/domain/plan-api.md, docs/catalog-format.md), `today` comes in
the profile. Every clinical decision comes from the catalog data.
"""

import heapq
from dataclasses import dataclass, field
from datetime import date, timedelta

from treatments.engine.areas import AreaTree
from treatments.engine.profile_validation import parse_date, validate_profile

__all__ = ["Catalog", "layout_visits", "prepare_catalog", "suggest_plan", "validate_profile"]

GRADE_SCORE = {"A": 4, "A/B": 3.5, "B": 3, "B/C": 2.5, "C": 2, "C/D": 1.5, "D": 1}
PREFERRED_BONUS = 0.5
STATUS_ORDER = {"ok": 0, "needs_clearance": 1, "deferred": 2}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


class Catalog:
    """The catalog indexed once, so that many suggestions can be made from it quickly."""

    def __init__(self, data):
        self.data = data
        self.tree = AreaTree(data.get("areas", []))
        self.concerns = {c["slug"]: c for c in data.get("concerns", [])}
        self.conditions = {c["slug"]: c for c in data.get("conditions", [])}
        self.treatments = {t["slug"]: t for t in data.get("treatments", [])}
        self.groups = {g["slug"]: set(g["members"]) for g in data.get("groups", [])}
        self.protocols = {}
        for protocol in data.get("protocols", []):
            if protocol["treatment"] in self.treatments:
                self.protocols.setdefault(protocol["concern"], []).append(protocol)
        self.rules = {}
        for rule in data.get("contraindications", []):
            self.rules.setdefault(rule["condition"], []).append(rule)
        self.patient_rules = data.get("patient_rules", [])
        self.gaps = data.get("procedure_gaps", [])
        self._parts = {slug: self._parts_of(slug, set()) for slug in self.treatments}
        self._applies = {}

    def _parts_of(self, slug, seen):
        parts = {slug}
        for component in self.treatments.get(slug, {}).get("components", []):
            if component not in seen:
                parts |= self._parts_of(component, seen | {slug})
        return parts

    def applies(self, target, treatment):
        """Whether a rule naming `target` (treatment or group) applies to `treatment` or its parts."""
        key = (target, treatment)
        if key not in self._applies:
            parts = self._parts.get(treatment, {treatment})
            self._applies[key] = target in parts or bool(self.groups.get(target, set()) & parts)
        return self._applies[key]

    def gap_days(self, first, then):
        return max(
            (
                g["min_days"]
                for g in self.gaps
                if self.applies(g["from"], first) and self.applies(g["to"], then)
            ),
            default=0,
        )

    def name(self, treatment):
        return self.treatments.get(treatment, {}).get("name", treatment)

    def condition_name(self, slug):
        return self.conditions.get(slug, {}).get("name", slug)


def prepare_catalog(data):
    return data if isinstance(data, Catalog) else Catalog(data)


@dataclass
class Verdict:
    """What one rule says about one treatment: a reason, and how it limits the option."""

    code: str
    severity: str
    text: str
    limit: str  # "exclude", "defer", "clearance" or "flag"
    until: date | None = None
    unresolved: bool = False
    areas: tuple = ()  # empty: everywhere
    cleared_by: str = ""

    def reason(self):
        return {"code": self.code, "severity": self.severity, "text": self.text}


def _ongoing(record, today):
    return record["until"] is None or record["until"] > today


def _rule_window(rule, record, today):
    """(applies, until date or None, unresolved) for one rule and one history record."""
    timing = rule.get("timing", "ongoing")
    window = timedelta(days=rule.get("window_days") or 0)
    if timing == "after_event":
        if record["since"] is None:
            return True, None, True
        dates = [record["since"] + window] if today < record["since"] + window else []
        unresolved = False
        if rule.get("until_resolved"):
            # Still present (a sunburn not yet recorded as healed) defers until someone records it.
            if record["until"] is None:
                unresolved = True
            elif record["until"] > today:
                dates.append(record["until"])
        return bool(dates) or unresolved, max(dates, default=None), unresolved
    if timing == "after_end":
        if record["until"] is None:
            return True, None, True
        end = record["until"] + window
        return today < end, end, False
    if not _ongoing(record, today):
        return False, None, False
    if rule.get("until_resolved"):
        return True, record["until"], record["until"] is None
    return True, None, False


def _limit(severity, deferring):
    if severity == "precaution":
        return "flag"
    if severity == "absolute":
        return "defer" if deferring else "exclude"
    return "defer" if deferring else "clearance"


def _record_areas(rule, record, tree):
    if not rule.get("area_limited") or not record["areas"]:
        return ()
    areas = set(record["areas"])
    spread = rule.get("spread_to")
    if spread and any(tree.contains(spread, area) for area in areas):
        areas.add(spread)
    return tuple(sorted(areas))


def condition_verdicts(catalog, treatment, records, today):
    verdicts = []
    for record in records:
        for rule in catalog.rules.get(record["condition"], []):
            if not catalog.applies(rule["applies_to"], treatment):
                continue
            applies, until, unresolved = _rule_window(rule, record, today)
            if not applies:
                continue
            deferring = bool(
                rule.get("until_resolved") or rule.get("window_days") or rule.get("timing") != "ongoing"
            )
            verdicts.append(
                Verdict(
                    code=record["condition"],
                    severity=rule["severity"],
                    text=rule["text"],
                    limit=_limit(rule["severity"], deferring),
                    until=until if until and until > today else None,
                    unresolved=unresolved,
                    areas=_record_areas(rule, record, catalog.tree),
                )
            )
    return verdicts


def patient_verdicts(catalog, protocol, patient):
    treatment = protocol["treatment"]
    verdicts = []
    known = patient["fitzpatrick"] is not None  # unknown only in a booking's recheck
    if known and patient["fitzpatrick"] not in protocol.get("fitzpatrick", list(ROMAN)):
        verdicts.append(
            Verdict(
                "fitzpatrick",
                "absolute",
                f"{catalog.name(treatment)} is not offered for skin type {ROMAN[patient['fitzpatrick']]} for this concern.",
                "exclude",
            )
        )
    for rule in catalog.patient_rules:
        if not catalog.applies(rule["applies_to"], treatment):
            continue
        value = patient["fitzpatrick"] if rule["fact"] == "fitzpatrick" else patient["age"]
        if value is None:
            continue
        low, high = rule.get("min"), rule.get("max")
        if (low is None or value >= low) and (high is None or value <= high):
            verdicts.append(
                Verdict(rule["fact"], rule["severity"], rule["text"], _limit(rule["severity"], False))
            )
    return verdicts


def _apply_clearances(verdicts, treatment, cleared):
    for verdict in verdicts:
        clearance = cleared.get((treatment, verdict.code))
        if clearance and verdict.severity == "relative":
            verdict.limit = "flag"
            verdict.cleared_by = clearance.get("by") or "a clinician"
            verdict.text = f"{verdict.text} Cleared by {verdict.cleared_by}: {clearance['reason']}"
    return verdicts


def _age(birth_date, today):
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _settings(catalog, protocol, areas, fitzpatrick):
    settings = {}
    depths = (protocol.get("settings") or {}).get("needle_depth_mm") or {}
    if depths:
        chosen = {}
        for area in areas:
            above = next((a for a in catalog.tree.ancestors(area) if a in depths), None)
            if above is not None:
                chosen[area] = dict(depths[above])
            else:
                for below in catalog.tree.descendants(area):
                    if below in depths:
                        chosen[below] = dict(depths[below])
        if chosen:
            settings["needle_depth_mm"] = chosen
    peel = (protocol.get("settings") or {}).get("peel")
    if peel:
        resolved = {"agent": peel.get("agent", "")}
        strength = (peel.get("by_fitzpatrick") or {}).get(str(fitzpatrick)) or peel.get("concentration_pct")
        if strength:
            resolved["concentration_pct"] = dict(strength)
        if peel.get("coats"):
            resolved["coats"] = dict(peel["coats"])
        settings["peel"] = resolved
    return settings


def _score(protocol, fitzpatrick):
    score = GRADE_SCORE.get(protocol.get("evidence", ""), 0) + float(protocol.get("weight") or 0)
    if fitzpatrick in protocol.get("preferred_fitzpatrick", []):
        score += PREFERRED_BONUS
    return score


def _verdicts_for(area, verdicts, tree):
    return [v for v in verdicts if not v.areas or any(tree.overlaps(area, a) for a in v.areas)]


def _signature(verdicts):
    return tuple(sorted((v.code, v.severity, v.limit, v.text, v.until, v.unresolved) for v in verdicts))


def _option(catalog, protocol, areas, verdicts, patient, today):
    treatment = catalog.treatments[protocol["treatment"]]
    limits = {v.limit for v in verdicts}
    if "exclude" in limits:
        return None, {
            "treatment": protocol["treatment"],
            "areas": areas,
            "reasons": [v.reason() for v in verdicts if v.limit != "flag"],
        }
    deferrals = [v for v in verdicts if v.limit == "defer"]
    until_resolved = sorted({v.code for v in deferrals if v.unresolved})
    dates = [v.until for v in deferrals if v.until]
    if deferrals:
        status = "deferred"
        earliest = max(dates).isoformat() if dates else None
    elif "clearance" in limits:
        status, earliest = "needs_clearance", today.isoformat()
    else:
        status, earliest = "ok", today.isoformat()
    option = {
        "treatment": protocol["treatment"],
        "areas": areas,
        "rank": 0,
        "status": status,
        "earliest_start": earliest,
        "until_resolved": until_resolved,
        "sessions": dict(protocol["sessions"]),
        "interval_days": dict(protocol["interval_days"]),
        "settings": _settings(catalog, protocol, areas, patient["fitzpatrick"]),
        "evidence": protocol.get("evidence", ""),
        "flags": [v.reason() for v in verdicts],
        "pre_care": list(treatment.get("pre_care", [])),
        "aftercare": list(treatment.get("aftercare", [])),
    }
    return option, None


def _notes(catalog, concern, options, excluded, has_protocols):
    advice = catalog.concerns.get(concern, {}).get("no_option_advice", "")
    if not has_protocols:
        return [advice or "No treatment in the catalog addresses this concern; refer to a dermatologist."]
    notes = []
    blocked = [e for e in excluded if any(r["code"] != "area" for r in e["reasons"])]
    if not options:
        reasons = sorted({catalog.condition_name(r["code"]) for e in excluded for r in e["reasons"]})
        notes.append(
            f"Nothing can be offered for this concern now ({', '.join(reasons)}): a physician must review."
            + (f" {advice}" if advice else "")
        )
    elif blocked:
        names = sorted({catalog.name(e["treatment"]) for e in blocked})
        reasons = sorted({catalog.condition_name(r["code"]) for e in blocked for r in e["reasons"]})
        notes.append(
            f"Not offered: {', '.join(names)} ({', '.join(reasons)}). The options listed remain; "
            "a physician may review if they are not suitable."
        )
    if options and options[0]["evidence"] == "D":
        notes.append("Limited evidence for the best available option: set expectations accordingly.")
    return notes


def _item(catalog, concern_row, patient, records, cleared, today):
    concern = concern_row["concern"]
    wanted = list(concern_row.get("areas") or [])
    protocols = catalog.protocols.get(concern, [])
    scored, excluded = [], []
    for protocol in protocols:
        tree = catalog.tree
        if wanted:
            covered = [a for a in wanted if any(tree.contains(p, a) for p in protocol["areas"])]
            uncovered = [a for a in wanted if a not in covered]
        else:
            covered, uncovered = list(protocol["areas"]), []
        if uncovered:
            excluded.append(
                {
                    "treatment": protocol["treatment"],
                    "areas": uncovered,
                    "reasons": [
                        {
                            "code": "area",
                            "severity": "absolute",
                            "text": f"{catalog.name(protocol['treatment'])} is not offered on "
                            f"{', '.join(tree.names.get(a, a) for a in uncovered)} for this concern.",
                        }
                    ],
                }
            )
        if not covered:
            continue
        verdicts = condition_verdicts(catalog, protocol["treatment"], records, today)
        verdicts += patient_verdicts(catalog, protocol, patient)
        _apply_clearances(verdicts, protocol["treatment"], cleared)
        blockers = sorted({a for v in verdicts for a in v.areas})
        groups = {}
        for area in covered:
            for part in tree.split_around(area, blockers):
                applying = _verdicts_for(part, verdicts, tree)
                groups.setdefault(_signature(applying), (applying, []))[1].append(part)
        for applying, parts in groups.values():
            option, exclusion = _option(catalog, protocol, tree.sort(parts), applying, patient, today)
            if exclusion:
                excluded.append(exclusion)
            else:
                status_order = STATUS_ORDER[option["status"]]
                scored.append(
                    (
                        -_score(protocol, patient["fitzpatrick"]),
                        protocol["treatment"],
                        status_order,
                        len(scored),
                        option,
                    )
                )
    scored.sort(key=lambda entry: entry[:4])
    options = [entry[4] for entry in scored]
    for rank, option in enumerate(options, start=1):
        option["rank"] = rank
    return {
        "concern": concern,
        "areas": wanted,
        "options": options,
        "excluded": excluded,
        "notes": _notes(catalog, concern, options, excluded, bool(protocols)),
    }


def _records(profile):
    return [
        {
            "condition": row["condition"],
            "areas": list(row.get("areas") or []),
            "since": parse_date(row.get("since")),
            "until": parse_date(row.get("until")),
        }
        for row in profile.get("conditions") or []
    ]


def _patient(row, today):
    return {"fitzpatrick": row["fitzpatrick"], "age": _age(parse_date(row["birth_date"]), today)}


def suggest_plan(profile, catalog):
    """The plan for a valid profile (see validate_profile)."""
    catalog = prepare_catalog(catalog)
    today = parse_date(profile["today"])
    patient = _patient(profile["patient"], today)
    records = _records(profile)
    cleared = {(c["treatment"], c["condition"]): c for c in profile.get("cleared") or []}
    items = [_item(catalog, row, patient, records, cleared, today) for row in profile.get("concerns") or []]
    series = []
    for item in items:
        schedulable = [
            o
            for o in item["options"]
            if o["status"] == "ok" or (o["status"] == "deferred" and o["earliest_start"])
        ]
        if not schedulable:
            continue
        # The best treatment, on every part of the concern's area where it can be scheduled: the
        # part a condition defers starts later, the rest starts now.
        best = schedulable[0]["treatment"]
        for option in (o for o in schedulable if o["treatment"] == best):
            series.append(
                {
                    "treatment": option["treatment"],
                    "areas": option["areas"],
                    "sessions": option["sessions"]["default"],
                    "interval_days": option["interval_days"],
                    "earliest_start": option["earliest_start"],
                }
            )
    return {"today": today.isoformat(), "items": items, "visits": layout_visits(series, catalog, today=today)}


def check_treatment(profile, catalog, treatment, areas):
    """Whether `treatment` may be done on `areas` on the profile's `today` (a booking's recheck).

    Returns {"status": "ok" | "needs_clearance" | "deferred" | "excluded", "reasons": [...],
    "flags": [...], "earliest_start": ISO date or None, "until_resolved": [...]}; reasons are the
    blocking ones, flags the precautions.
    """
    catalog = prepare_catalog(catalog)
    today = parse_date(profile["today"])
    patient = _patient(profile["patient"], today)
    verdicts = condition_verdicts(catalog, treatment, _records(profile), today)
    protocols = [p for ps in catalog.protocols.values() for p in ps if p["treatment"] == treatment]
    suits = [p for p in protocols if patient["fitzpatrick"] in p.get("fitzpatrick", list(ROMAN))]
    # Skin type is judged per protocol; without a concern, any protocol that suits will do.
    fitting = (suits or protocols or [{"treatment": treatment}])[0]
    verdicts += patient_verdicts(catalog, fitting, patient)
    cleared = {(c["treatment"], c["condition"]): c for c in profile.get("cleared") or []}
    _apply_clearances(verdicts, treatment, cleared)
    areas = list(areas) or [None]
    applying = {
        id(v): v
        for area in areas
        for v in (verdicts if area is None else _verdicts_for(area, verdicts, catalog.tree))
    }
    blocking = [v for v in applying.values() if v.limit != "flag"]
    limits = {v.limit for v in blocking}
    deferrals = [v for v in blocking if v.limit == "defer"]
    if "exclude" in limits:
        status = "excluded"
    elif deferrals:
        status = "deferred"
    elif "clearance" in limits:
        status = "needs_clearance"
    else:
        status = "ok"
    dates = [v.until for v in deferrals if v.until]
    return {
        "status": status,
        "reasons": [v.reason() for v in blocking],
        "flags": [v.reason() for v in applying.values() if v.limit == "flag"],
        "earliest_start": max(dates).isoformat() if dates else None,
        "until_resolved": sorted({v.code for v in deferrals if v.unresolved}),
    }


@dataclass(order=True)
class _Next:
    when: date
    order: int
    series: dict = field(compare=False)
    session: int = field(compare=False, default=1)
    latest: date = field(compare=False, default=None)


def _merge_series(series, tree):
    merged = []
    for entry in series:
        same = next(
            (
                m
                for m in merged
                if m["treatment"] == entry["treatment"]
                and any(tree.overlaps(a, b) for a in m["areas"] for b in entry["areas"])
            ),
            None,
        )
        if same is None:
            merged.append({**entry, "areas": list(entry["areas"])})
        else:
            same["areas"] = tree.sort(same["areas"] + entry["areas"])
            same["sessions"] = max(same["sessions"], entry["sessions"])
            same["earliest_start"] = max(same["earliest_start"], entry["earliest_start"])
    return merged


def layout_visits(series, catalog, *, today):
    """Lay out series of sessions as dated visit windows.

    Each series: {treatment, areas, sessions, interval_days: {min, typical, max}, earliest_start}.
    Sessions are placed in date order; a session waits for every catalog gap after a different
    procedure on overlapping areas. Procedures placed on the same day share a visit.
    """
    catalog = prepare_catalog(catalog)
    today = parse_date(today) if isinstance(today, str) else today
    tree = catalog.tree
    queue = []
    for order, entry in enumerate(_merge_series(series, tree)):
        start = parse_date(entry["earliest_start"]) if entry.get("earliest_start") else today
        start = max(start, today)
        heapq.heappush(queue, _Next(start, order, entry, 1, start))
    placed = []
    while queue:
        nxt = heapq.heappop(queue)
        entry = nxt.series
        required = nxt.when
        for done_day, done in placed:
            if done["treatment"] == entry["treatment"]:
                continue
            if not any(tree.overlaps(a, b) for a in done["areas"] for b in entry["areas"]):
                continue
            gap = catalog.gap_days(done["treatment"], entry["treatment"])
            if done_day == required:
                gap = max(gap, catalog.gap_days(entry["treatment"], done["treatment"]))
            required = max(required, done_day + timedelta(days=gap))
        if required > nxt.when:
            heapq.heappush(queue, _Next(required, nxt.order, entry, nxt.session, nxt.latest))
            continue
        latest = max(nxt.latest, required)
        placed.append((required, {**entry, "session": nxt.session, "latest": latest}))
        if nxt.session < entry["sessions"]:
            interval = entry["interval_days"]
            heapq.heappush(
                queue,
                _Next(
                    required + timedelta(days=interval["typical"]),
                    nxt.order,
                    entry,
                    nxt.session + 1,
                    required + timedelta(days=interval["max"]),
                ),
            )
    visits = {}
    for day, procedure in placed:
        visits.setdefault(day, []).append(procedure)
    return [
        {
            "number": number,
            "earliest": day.isoformat(),
            "latest": min(p["latest"] for p in procedures).isoformat(),
            "procedures": [
                {"treatment": p["treatment"], "areas": list(p["areas"]), "session": p["session"]}
                for p in procedures
            ],
        }
        for number, (day, procedures) in enumerate(sorted(visits.items()), start=1)
    ]
