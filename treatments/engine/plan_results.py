"""What the plan engine answers, typed: statuses, reasons, options, items, visits, the suggestion,
and a treatment's verdict on a day.

Each type writes and reads the JSON of shared/domain/plan-api.md (`to_json` / `from_json`); the
engine and the app pass these types around, JSON is only at the edges (the API, the command, the
plans stored in the database).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, NotRequired, Self, TypedDict

Json = dict[str, Any]


class OptionStatus(StrEnum):
    OK = "ok"
    NEEDS_CLEARANCE = "needs_clearance"
    DEFERRED = "deferred"
    EXCLUDED = "excluded"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Severity(StrEnum):
    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    PRECAUTION = "precaution"


class Limit(StrEnum):
    """How a rule limits an option: the severity of the rule, and whether it waits for a date."""

    EXCLUDE = "exclude"
    DEFER = "defer"
    CLEARANCE = "clearance"
    FLAG = "flag"


class Bounds(TypedDict):
    min: float | None
    max: float | None


class PeelSettings(TypedDict):
    agent: str
    concentration_pct: NotRequired[Bounds]
    coats: NotRequired[Bounds]


class ProtocolSettings(TypedDict, total=False):
    """The settings block of an option, as the catalog words it (needle depth per area, peel)."""

    needle_depth_mm: dict[str, Bounds]
    peel: PeelSettings


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Reason:
    """Why an option is limited or flagged: a condition slug (or fitzpatrick, age, area) and a text."""

    code: str
    severity: Severity
    text: str

    def to_json(self) -> Json:
        return {"code": self.code, "severity": self.severity.value, "text": self.text}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(code=data["code"], severity=Severity(data["severity"]), text=data["text"])


@dataclass(frozen=True)
class SessionCount:
    min: int
    max: int
    default: int

    def to_json(self) -> Json:
        return {"min": self.min, "max": self.max, "default": self.default}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(min=data["min"], max=data["max"], default=data["default"])


@dataclass(frozen=True)
class IntervalDays:
    min: int
    typical: int
    max: int

    def to_json(self) -> Json:
        return {"min": self.min, "typical": self.typical, "max": self.max}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(min=data["min"], typical=data["typical"], max=data["max"])


@dataclass(frozen=True)
class Option:
    treatment: str
    areas: tuple[str, ...]
    rank: int
    status: OptionStatus
    earliest_start: date | None
    until_resolved: tuple[str, ...]
    sessions: SessionCount
    interval_days: IntervalDays
    settings: ProtocolSettings
    evidence: str
    flags: tuple[Reason, ...]
    pre_care: tuple[str, ...]
    aftercare: tuple[str, ...]
    # Added by issue 12 (docs/plan-api.md): absent from plans stored before it.
    maintenance: str = ""
    notes: tuple[str, ...] = ()

    @property
    def schedulable(self) -> bool:
        """Whether visits can be laid out for it now: ok, or deferred to a known date."""
        return self.status == OptionStatus.OK or (
            self.status == OptionStatus.DEFERRED and self.earliest_start is not None
        )

    def needle_depths(self) -> Mapping[str, Bounds]:
        return self.settings.get("needle_depth_mm", {})

    def to_json(self) -> Json:
        return {
            "treatment": self.treatment,
            "areas": list(self.areas),
            "rank": self.rank,
            "status": self.status.value,
            "earliest_start": _iso(self.earliest_start),
            "until_resolved": list(self.until_resolved),
            "sessions": self.sessions.to_json(),
            "interval_days": self.interval_days.to_json(),
            "settings": self.settings,
            "evidence": self.evidence,
            "flags": [flag.to_json() for flag in self.flags],
            "pre_care": list(self.pre_care),
            "aftercare": list(self.aftercare),
            "maintenance": self.maintenance,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            treatment=data["treatment"],
            areas=tuple(data["areas"]),
            rank=data["rank"],
            status=OptionStatus(data["status"]),
            earliest_start=_day(data.get("earliest_start")),
            until_resolved=tuple(data.get("until_resolved", ())),
            sessions=SessionCount.from_json(data["sessions"]),
            interval_days=IntervalDays.from_json(data["interval_days"]),
            settings=data.get("settings") or {},
            evidence=data.get("evidence", ""),
            flags=tuple(Reason.from_json(flag) for flag in data.get("flags", ())),
            pre_care=tuple(data.get("pre_care", ())),
            aftercare=tuple(data.get("aftercare", ())),
            maintenance=data.get("maintenance") or "",
            notes=tuple(data.get("notes") or ()),
        )


@dataclass(frozen=True)
class Exclusion:
    """A treatment the catalog indicates but that must not be offered, with every reason."""

    treatment: str
    areas: tuple[str, ...]
    reasons: tuple[Reason, ...]

    def to_json(self) -> Json:
        return {
            "treatment": self.treatment,
            "areas": list(self.areas),
            "reasons": [reason.to_json() for reason in self.reasons],
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            treatment=data["treatment"],
            areas=tuple(data["areas"]),
            reasons=tuple(Reason.from_json(reason) for reason in data["reasons"]),
        )


@dataclass(frozen=True)
class PlanItem:
    """One concern of the profile: its options best first, what is not offered, and notes."""

    concern: str
    areas: tuple[str, ...]
    options: tuple[Option, ...]
    excluded: tuple[Exclusion, ...]
    notes: tuple[str, ...]
    summary: str = ""  # added by issue 12: one line a clinician reads first

    def to_json(self) -> Json:
        return {
            "concern": self.concern,
            "areas": list(self.areas),
            "summary": self.summary,
            "options": [option.to_json() for option in self.options],
            "excluded": [exclusion.to_json() for exclusion in self.excluded],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            concern=data["concern"],
            areas=tuple(data["areas"]),
            options=tuple(Option.from_json(option) for option in data["options"]),
            excluded=tuple(Exclusion.from_json(exclusion) for exclusion in data["excluded"]),
            notes=tuple(data["notes"]),
            summary=data.get("summary") or "",
        )


@dataclass(frozen=True)
class Procedure:
    treatment: str
    areas: tuple[str, ...]
    session: int

    def to_json(self) -> Json:
        return {"treatment": self.treatment, "areas": list(self.areas), "session": self.session}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(treatment=data["treatment"], areas=tuple(data["areas"]), session=data["session"])


@dataclass(frozen=True)
class Visit:
    """A visit window (earliest to latest day) and the procedures done at it."""

    number: int
    earliest: date
    latest: date
    procedures: tuple[Procedure, ...]

    def to_json(self) -> Json:
        return {
            "number": self.number,
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "procedures": [procedure.to_json() for procedure in self.procedures],
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            number=data["number"],
            earliest=date.fromisoformat(data["earliest"]),
            latest=date.fromisoformat(data["latest"]),
            procedures=tuple(Procedure.from_json(procedure) for procedure in data["procedures"]),
        )


@dataclass(frozen=True)
class Suggestion:
    """The engine's plan for a profile: an item per concern and the proposed visits."""

    today: date
    items: tuple[PlanItem, ...]
    visits: tuple[Visit, ...]

    def to_json(self) -> Json:
        return {
            "today": self.today.isoformat(),
            "items": [item.to_json() for item in self.items],
            "visits": [visit.to_json() for visit in self.visits],
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            today=date.fromisoformat(data["today"]),
            items=tuple(PlanItem.from_json(item) for item in data["items"]),
            visits=tuple(Visit.from_json(visit) for visit in data["visits"]),
        )


@dataclass(frozen=True)
class TreatmentCheck:
    """Whether a treatment may be done on some areas on a day: the blocking reasons, the
    precaution flags, and when a deferral ends."""

    status: OptionStatus
    reasons: tuple[Reason, ...]
    flags: tuple[Reason, ...]
    earliest_start: date | None
    until_resolved: tuple[str, ...]

    def to_json(self) -> Json:
        return {
            "status": self.status.value,
            "reasons": [reason.to_json() for reason in self.reasons],
            "flags": [flag.to_json() for flag in self.flags],
            "earliest_start": _iso(self.earliest_start),
            "until_resolved": list(self.until_resolved),
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            status=OptionStatus(data["status"]),
            reasons=tuple(Reason.from_json(reason) for reason in data["reasons"]),
            flags=tuple(Reason.from_json(flag) for flag in data["flags"]),
            earliest_start=_day(data.get("earliest_start")),
            until_resolved=tuple(data.get("until_resolved", ())),
        )


@dataclass(frozen=True)
class Series:
    """A series of sessions of one treatment on some areas, to be laid out as visits."""

    treatment: str
    areas: tuple[str, ...]
    sessions: int
    interval_days: IntervalDays
    earliest_start: date | None
