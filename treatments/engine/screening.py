"""Day-of screening: the questions to ask before a procedure, and what the answers mean.

Pure: the questions come from the catalog (every condition with a rule that would stop or defer
this treatment), and a "yes" is judged by the plan engine as a new record on the treated areas,
so that an admin's rule change changes the checklist and its verdicts. Nothing clinical is here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from treatments.engine.plan_results import OptionStatus, Reason
from treatments.engine.planning import Catalog, check_treatment, prepare_catalog
from treatments.engine.profile_validation import Profile

STOPPING = {"absolute", "relative"}


class Finding(TypedDict):
    """A "yes" at screening, as a history record of the profile (plan-api.md)."""

    condition: str
    areas: list[str]
    since: str
    until: None


class Question(TypedDict):
    condition: str
    question: str
    severity: str


@dataclass(frozen=True)
class ScreeningOutcome:
    """Whether to go on, why not, and the findings (each "yes" as a record starting today)."""

    stop: bool
    reasons: tuple[Reason, ...]
    findings: tuple[Finding, ...]


def _question(name: str, info: dict[str, Any], rule: dict[str, Any]) -> str:
    """ "Cold sore in the treated area now?", "Steroid injection in the treated area in the last
    30 days?", "Keloid tendency?": the condition's name, said once, with where and when."""
    window = rule.get("window_days")
    if rule.get("timing") == "after_event" and window:
        when = f" in the last {window} days"
    elif info.get("kind") == "trait":
        when = ""  # a tendency is not "now"
    else:
        when = " now"
    text = name
    if when == " now" and text.lower().endswith(" now"):
        text = text[: -len(" now")]
    if info.get("area_specific"):
        if text.lower().endswith(" in the area"):
            text = text[: -len(" in the area")]
        text += " in the treated area"
    return f"{text}{when}?"


def checklist(catalog: Catalog | dict[str, Any], treatment: str) -> list[Question]:
    """The questions for the conditions whose rules stop `treatment`, absolute ones first."""
    prepared = prepare_catalog(catalog)
    questions: dict[str, Question] = {}
    for condition, rules in prepared.rules.items():
        for rule in rules:
            if rule["severity"] not in STOPPING or not prepared.applies(rule["applies_to"], treatment):
                continue
            info = prepared.conditions.get(condition, {})
            text = _question(str(info.get("name", condition)), info, rule)
            kept = questions.get(condition)
            if kept is None or rule["severity"] == "absolute":
                questions[condition] = {
                    "condition": condition,
                    "question": text,
                    "severity": rule["severity"],
                }
    return sorted(questions.values(), key=lambda q: (q["severity"] != "absolute", q["question"]))


def evaluate(
    profile: Profile,
    catalog: Catalog | dict[str, Any],
    treatment: str,
    areas: Sequence[str],
    answers: Mapping[str, bool],
) -> ScreeningOutcome:
    """answers: {condition slug: True for "yes"}. Each "yes" becomes a record starting today (on
    the treated areas when the condition is area-specific), added to the profile's history."""
    prepared = prepare_catalog(catalog)
    today = profile["today"]
    findings: list[Finding] = []
    for condition, yes in sorted(answers.items()):
        if not yes:
            continue
        specific = prepared.conditions.get(condition, {}).get("area_specific")
        findings.append(
            {"condition": condition, "areas": list(areas) if specific else [], "since": today, "until": None}
        )
    checked: Profile = {**profile, "conditions": [*profile.get("conditions", []), *findings]}
    verdict = check_treatment(checked, prepared, treatment, areas)
    return ScreeningOutcome(
        stop=verdict.status != OptionStatus.OK, reasons=verdict.reasons, findings=tuple(findings)
    )
