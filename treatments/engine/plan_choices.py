"""What a clinician changes in a suggestion before accepting it: pure checks, no database.

A choice per item: which option (or none), sessions, interval and planned needle depths, with a
reason whenever a value leaves the protocol's range, and an acknowledgement of precaution flags.
"""

from dataclasses import dataclass, field

OFFERABLE = ("ok", "deferred")
REASON_NEEDED = "Give a reason: {what} is outside the protocol's range ({low}-{high})."
ACK_NEEDED = "Confirm you have read the precautions for {treatment}."
NOT_OFFERABLE = "{treatment} cannot be chosen: it is {status}."
DEFERRED_WITHOUT_DATE = "{treatment} has no start date yet: it waits until {conditions} is resolved."


@dataclass
class ItemChoice:
    option_index: int | None
    sessions: int | None = None
    interval_days: int | None = None
    depths: dict = field(default_factory=dict)
    reason: str = ""
    acknowledged: bool = False


def check_choice(option, choice):
    """Return the problems with choosing `option` (a plan-api option) as adjusted by `choice`."""
    problems = []
    name = option["treatment"]
    if option["status"] not in OFFERABLE:
        return [NOT_OFFERABLE.format(treatment=name, status=option["status"].replace("_", " "))]
    if option["status"] == "deferred" and not option.get("earliest_start"):
        return [
            DEFERRED_WITHOUT_DATE.format(
                treatment=name, conditions=", ".join(option.get("until_resolved", []))
            )
        ]
    out_of_range = []
    sessions = option["sessions"]
    if choice.sessions is not None and not sessions["min"] <= choice.sessions <= sessions["max"]:
        out_of_range.append(("the number of sessions", sessions["min"], sessions["max"]))
    interval = option["interval_days"]
    if choice.interval_days is not None and not interval["min"] <= choice.interval_days <= interval["max"]:
        out_of_range.append(("the interval in days", interval["min"], interval["max"]))
    depth_ranges = option.get("settings", {}).get("needle_depth_mm", {})
    for area, depth in choice.depths.items():
        bounds = depth_ranges.get(area)
        if depth is not None and bounds and not bounds["min"] <= depth <= bounds["max"]:
            out_of_range.append((f"the needle depth on {area}", bounds["min"], bounds["max"]))
    if out_of_range and not choice.reason.strip():
        problems += [REASON_NEEDED.format(what=what, low=low, high=high) for what, low, high in out_of_range]
    if option.get("flags") and not choice.acknowledged:
        problems.append(ACK_NEEDED.format(treatment=name))
    return problems


def series_for(option, choice):
    """The series the accepted plan lays out for a chosen option."""
    interval = dict(option["interval_days"])
    if choice.interval_days is not None:
        interval["typical"] = choice.interval_days
        interval["min"] = min(interval["min"], choice.interval_days)
        interval["max"] = max(interval["max"], choice.interval_days)
    return {
        "treatment": option["treatment"],
        "areas": list(option["areas"]),
        "sessions": choice.sessions or option["sessions"]["default"],
        "interval_days": interval,
        "earliest_start": option["earliest_start"],
    }
