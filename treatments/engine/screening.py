"""Day-of screening: the questions to ask before a procedure, and what the answers mean.

Pure: the questions come from the catalog (every condition with a rule that would stop or defer
this treatment), and a "yes" is judged by the plan engine as a new record on the treated areas,
so that an admin's rule change changes the checklist and its verdicts. Nothing clinical is here.
"""

from treatments.engine.planning import check_treatment, prepare_catalog

STOPPING = {"absolute", "relative"}


def checklist(catalog, treatment):
    """[{"condition", "question", "severity"}] for the conditions whose rules stop `treatment`."""
    catalog = prepare_catalog(catalog)
    questions = {}
    for condition, rules in catalog.rules.items():
        for rule in rules:
            if rule["severity"] not in STOPPING or not catalog.applies(rule["applies_to"], treatment):
                continue
            info = catalog.conditions.get(condition, {})
            window = rule.get("window_days")
            when = f" in the last {window} days" if rule.get("timing") == "after_event" and window else " now"
            text = f"{info.get('name', condition)}{when}?"
            if info.get("area_specific"):
                text = f"{info.get('name', condition)} in the treated area{when}?"
            kept = questions.get(condition)
            if kept is None or rule["severity"] == "absolute":
                questions[condition] = {
                    "condition": condition,
                    "question": text,
                    "severity": rule["severity"],
                }
    return sorted(questions.values(), key=lambda q: (q["severity"] != "absolute", q["question"]))


def evaluate(profile, catalog, treatment, areas, answers):
    """Whether to go on: {"stop", "reasons", "records"}.

    answers: {condition slug: True for "yes"}. Each "yes" becomes a record starting today (on
    the treated areas when the condition is area-specific), added to the profile's history.
    """
    catalog = prepare_catalog(catalog)
    today = profile["today"]
    records = []
    for condition, yes in sorted(answers.items()):
        if not yes:
            continue
        specific = catalog.conditions.get(condition, {}).get("area_specific")
        records.append(
            {"condition": condition, "areas": list(areas) if specific else [], "since": today, "until": None}
        )
    checked = {**profile, "conditions": list(profile.get("conditions") or []) + records}
    verdict = check_treatment(checked, catalog, treatment, areas)
    return {"stop": verdict["status"] != "ok", "reasons": verdict["reasons"], "records": records}
