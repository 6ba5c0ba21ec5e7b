"""Read a clinician's choices for each item of a suggestion from the posted form."""

from decimal import Decimal, InvalidOperation

from treatments.engine.plan_choices import OFFERABLE, ItemChoice

NONE = "none"


def default_option_index(item):
    for index, option in enumerate(item["options"]):
        if option["status"] in OFFERABLE and (option["status"] == "ok" or option.get("earliest_start")):
            return index
    return None


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return "invalid"


def _depth(value):
    try:
        return float(Decimal(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return "invalid"


def parse_choices(post, items):
    """(choices, errors): one ItemChoice per item, and per-item lists of problems with the input."""
    choices, errors = [], {}
    for i, item in enumerate(items):
        prefix = f"item-{i}-"
        problems = []
        raw_option = post.get(prefix + "option", NONE)
        option_index = None
        if raw_option != NONE:
            option_index = _int(raw_option)
            if (
                option_index == "invalid"
                or option_index is None
                or not 0 <= option_index < len(item["options"])
            ):
                problems.append("Choose one of the options.")
                option_index = None
        sessions, interval = _int(post.get(prefix + "sessions")), _int(post.get(prefix + "interval"))
        if sessions == "invalid" or (isinstance(sessions, int) and sessions < 1):
            problems.append("Sessions must be a whole number of at least 1.")
            sessions = None
        if interval == "invalid" or (isinstance(interval, int) and interval < 1):
            problems.append("The interval must be a whole number of days, at least 1.")
            interval = None
        depths = {}
        for key, value in post.items():
            if key.startswith(prefix + "depth-"):
                depth = _depth(value)
                if depth == "invalid":
                    problems.append("Needle depths are numbers of millimetres, e.g. 1.5.")
                elif depth is not None:
                    depths[key.removeprefix(prefix + "depth-")] = depth
        choices.append(
            ItemChoice(
                option_index=option_index,
                sessions=sessions,
                interval_days=interval,
                depths=depths,
                reason=post.get(prefix + "reason", ""),
                acknowledged=post.get(prefix + "ack") == "on",
            )
        )
        if problems:
            errors[i] = problems
    return choices, errors
