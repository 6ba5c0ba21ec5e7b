"""How long the plan engine takes per patient with the seeded catalog.

    make bench            (or: .venv/bin/python bench/bench_planning.py [N])

Generates N random but valid profiles (default 1000) from the seeded vocabulary, then times
1. the engine in-process, one suggestion at a time (mean, p95, max), and
2. `manage.py suggest_plan --jsonl` over the same profiles in one run (total and per profile).
"""

import io
import json
import random
import sys
import time
from datetime import date, timedelta

from _django import percentile, setup


def random_profile(rng, catalog, today):
    concerns = sorted({p["concern"] for p in catalog.data["protocols"]})
    conditions = sorted(catalog.conditions)
    areas = list(catalog.tree.order)
    profile = {
        "today": today.isoformat(),
        "patient": {
            "birth_date": (today - timedelta(days=rng.randint(18 * 365, 70 * 365))).isoformat(),
            "sex": rng.choice(["female", "male"]),
            "fitzpatrick": rng.randint(1, 6),
        },
        "concerns": [
            {
                "concern": concern,
                "areas": rng.sample(areas, rng.randint(1, 2)),
                "severity": rng.choice(["mild", "moderate", "severe"]),
            }
            for concern in rng.sample(concerns, rng.randint(1, 3))
        ],
        "conditions": [],
    }
    for condition in rng.sample(conditions, rng.randint(0, 4)):
        since = today - timedelta(days=rng.randint(0, 400))
        until = rng.choice([None, since + timedelta(days=rng.randint(0, 300))])
        record = {"condition": condition, "since": since.isoformat(), "until": until and until.isoformat()}
        if rng.random() < 0.3:
            record["areas"] = rng.sample(areas, 1)
        profile["conditions"].append(record)
    return profile


def main(count):
    setup()
    from django.core.management import call_command

    from treatments.selectors.plan_suggestions import current_catalog, suggest, validate

    catalog = current_catalog()
    rng = random.Random(20261124)
    today = date(2026, 11, 24)
    profiles = [random_profile(rng, catalog.engine, today) for _ in range(count)]
    invalid = [p for p in profiles if validate(p, catalog)]
    assert not invalid, validate(invalid[0], catalog)

    timings = []
    visits = 0
    for profile in profiles:
        started = time.perf_counter()
        plan = suggest(profile, catalog)
        timings.append((time.perf_counter() - started) * 1000)
        visits += len(plan.visits)
    print(
        f"catalog: {len(catalog.data['protocols'])} protocols, "
        f"{len(catalog.data['contraindications'])} contraindication rules"
    )
    print(
        f"engine, {count} profiles: mean {sum(timings) / count:.2f} ms, "
        f"p95 {percentile(timings, 0.95):.2f} ms, max {max(timings):.2f} ms "
        f"({visits / count:.1f} visits per plan)"
    )

    text = "\n".join(json.dumps(p) for p in profiles)
    out = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()))  # the command reads stdin's bytes
    try:
        started = time.perf_counter()
        call_command("suggest_plan", "-", "--jsonl", stdout=out)
        total = time.perf_counter() - started
    finally:
        sys.stdin = stdin
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == count and all("items" in json.loads(line) for line in lines)
    print(
        f"suggest_plan --jsonl, {count} profiles: {total:.2f} s in all, "
        f"{total * 1000 / count:.2f} ms per profile (JSON in and out included)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
