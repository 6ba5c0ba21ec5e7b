"""What a clinician changes in a suggestion before accepting it: pure checks, no database.

A choice per item: which option (or none), sessions, interval and planned needle depths, with a
reason whenever a value leaves the protocol's range, and an acknowledgement of precaution flags.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

from treatments.engine.plan_results import (
    IntervalDays,
    Json,
    Option,
    OptionStatus,
    Series,
    Suggestion,
    Visit,
)
from treatments.engine.planning import Catalog, layout_visits

OFFERABLE = (OptionStatus.OK, OptionStatus.DEFERRED)
REASON_NEEDED = "Give a reason: {what} is outside the protocol's range ({low}-{high})."
ACK_NEEDED = "Confirm you have read the precautions for {treatment}."
NOT_OFFERABLE = "{treatment} cannot be chosen: it is {status}."
DEFERRED_WITHOUT_DATE = "{treatment} has no start date yet: it waits until {conditions} is resolved."
CHOICES_DO_NOT_MATCH = "The choices do not match the suggestion's items."


@dataclass(frozen=True)
class ItemChoice:
    """What the clinician asked for one item; None keeps the protocol's value."""

    option_index: int | None
    sessions: int | None = None
    interval_days: int | None = None
    depths: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    acknowledged: bool = False

    def to_json(self) -> Json:
        return {
            "option_index": self.option_index,
            "sessions": self.sessions,
            "interval_days": self.interval_days,
            "depths": dict(self.depths),
            "reason": self.reason,
            "acknowledged": self.acknowledged,
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            option_index=data["option_index"],
            sessions=data.get("sessions"),
            interval_days=data.get("interval_days"),
            depths=dict(data.get("depths") or {}),
            reason=data.get("reason", ""),
            acknowledged=bool(data.get("acknowledged")),
        )


@dataclass(frozen=True)
class ChosenItem:
    """An item of an accepted plan: the option taken for a concern, as the clinician adjusted it."""

    concern: str
    concern_areas: tuple[str, ...]
    option: Option
    sessions: int
    interval_days: IntervalDays
    depths: dict[str, float]
    reason: str
    acknowledged_flags: tuple[str, ...]

    @property
    def treatment(self) -> str:
        return self.option.treatment

    @property
    def areas(self) -> tuple[str, ...]:
        return self.option.areas

    def to_json(self) -> Json:
        return {
            "concern": self.concern,
            "concern_areas": list(self.concern_areas),
            "treatment": self.treatment,
            "areas": list(self.areas),
            "option": self.option.to_json(),
            "sessions": self.sessions,
            "interval_days": self.interval_days.to_json(),
            "depths": dict(self.depths),
            "reason": self.reason,
            "acknowledged_flags": list(self.acknowledged_flags),
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            concern=data["concern"],
            concern_areas=tuple(data["concern_areas"]),
            option=Option.from_json(data["option"]),
            sessions=data["sessions"],
            interval_days=IntervalDays.from_json(data["interval_days"]),
            depths=dict(data.get("depths") or {}),
            reason=data.get("reason", ""),
            acknowledged_flags=tuple(data.get("acknowledged_flags", ())),
        )


@dataclass(frozen=True)
class PlanChoices:
    """What an accepted plan keeps of the clinician's choices (Plan.chosen): items and visits."""

    items: tuple[ChosenItem, ...]
    visits: tuple[Visit, ...]

    @property
    def treatments(self) -> set[str]:
        return {item.treatment for item in self.items}

    def to_json(self) -> Json:
        return {
            "items": [item.to_json() for item in self.items],
            "visits": [visit.to_json() for visit in self.visits],
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            items=tuple(ChosenItem.from_json(item) for item in data["items"]),
            visits=tuple(Visit.from_json(visit) for visit in data["visits"]),
        )


def default_option_index(options: Sequence[Option]) -> int | None:
    """The option offered by default: the best one that visits can be laid out for."""
    return next((index for index, option in enumerate(options) if option.schedulable), None)


def default_choices(suggestion: Suggestion) -> list[ItemChoice]:
    """What the plan builder offers untouched, its precautions acknowledged: each item's default
    option, or nothing for an item whose default cannot be chosen as it is."""
    choices = []
    for item in suggestion.items:
        index = default_option_index(item.options)
        choice = ItemChoice(option_index=index, acknowledged=True)
        if index is not None and check_choice(item.options[index], choice):
            choice = ItemChoice(option_index=None)
        choices.append(choice)
    return choices


def check_choice(option: Option, choice: ItemChoice) -> list[str]:
    """Return the problems with choosing `option` as adjusted by `choice`."""
    problems = []
    name = option.treatment
    if option.status not in OFFERABLE:
        return [NOT_OFFERABLE.format(treatment=name, status=option.status.label)]
    if option.status == OptionStatus.DEFERRED and not option.earliest_start:
        return [DEFERRED_WITHOUT_DATE.format(treatment=name, conditions=", ".join(option.until_resolved))]
    out_of_range: list[tuple[str, float | None, float | None]] = []
    sessions = option.sessions
    if choice.sessions is not None and not sessions.min <= choice.sessions <= sessions.max:
        out_of_range.append(("the number of sessions", sessions.min, sessions.max))
    interval = option.interval_days
    if choice.interval_days is not None and not interval.min <= choice.interval_days <= interval.max:
        out_of_range.append(("the interval in days", interval.min, interval.max))
    depth_ranges = option.needle_depths()
    for area, depth in choice.depths.items():
        bounds = depth_ranges.get(area)
        if not bounds or depth is None:
            continue
        low, high = bounds["min"], bounds["max"]
        if (low is not None and depth < low) or (high is not None and depth > high):
            out_of_range.append((f"the needle depth on {area}", low, high))
    if out_of_range and not choice.reason.strip():
        problems += [REASON_NEEDED.format(what=what, low=low, high=high) for what, low, high in out_of_range]
    if option.flags and not choice.acknowledged:
        problems.append(ACK_NEEDED.format(treatment=name))
    return problems


def series_for(option: Option, choice: ItemChoice) -> Series:
    """The series the accepted plan lays out for a chosen option."""
    interval = option.interval_days
    if choice.interval_days is not None:
        interval = IntervalDays(
            min=min(interval.min, choice.interval_days),
            typical=choice.interval_days,
            max=max(interval.max, choice.interval_days),
        )
    return Series(
        treatment=option.treatment,
        areas=option.areas,
        sessions=choice.sessions or option.sessions.default,
        interval_days=interval,
        earliest_start=option.earliest_start,
    )


def chosen_plan(suggestion: Suggestion, choices: Sequence[ItemChoice], catalog: Catalog) -> PlanChoices:
    """The accepted plan's items and visits from one choice per item of the suggestion (already
    checked with check_choice)."""
    if len(choices) != len(suggestion.items):
        raise ValueError(CHOICES_DO_NOT_MATCH)
    items, series = [], []
    for item, choice in zip(suggestion.items, choices, strict=True):
        if choice.option_index is None:
            continue
        option = item.options[choice.option_index]
        planned = series_for(option, choice)
        series.append(planned)
        items.append(
            ChosenItem(
                concern=item.concern,
                concern_areas=item.areas,
                option=option,
                sessions=planned.sessions,
                interval_days=planned.interval_days,
                depths=dict(choice.depths),
                reason=choice.reason.strip(),
                acknowledged_flags=tuple(flag.code for flag in option.flags),
            )
        )
    return PlanChoices(
        items=tuple(items), visits=tuple(layout_visits(series, catalog, today=suggestion.today))
    )
