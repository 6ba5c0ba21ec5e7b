"""Procedure values outside the catalog's safe ranges, which a clinician must confirm with a reason.

Pure: `limits` is the settings block of a plan option (see plan-api.md), e.g.
{"needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}}, "peel": {"concentration_pct": {...}}}.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class OutOfRange:
    key: str
    message: str


def _check(key, label, value, bounds, unit):
    if value is None or not bounds:
        return None
    low, high = bounds.get("min"), bounds.get("max")
    if high is not None and value > high:
        return OutOfRange(key, f"{label} {value:g}{unit} is above the safe maximum of {high:g}{unit}.")
    if low is not None and value < low:
        return OutOfRange(key, f"{label} {value:g}{unit} is below the usual minimum of {low:g}{unit}.")
    return None


def out_of_range(values, limits, *, area_names=None):
    """Every value outside its range: [OutOfRange]. values: {"needle_depth_mm": {area: mm},
    "concentration_pct": number}."""
    names = area_names or {}
    found = []
    depths = (limits or {}).get("needle_depth_mm") or {}
    for area, depth in sorted((values.get("needle_depth_mm") or {}).items()):
        label = f"Needle depth on {names.get(area, area)}"
        problem = _check(f"needle_depth_mm.{area}", label, depth, depths.get(area), " mm")
        if problem:
            found.append(problem)
    peel = (limits or {}).get("peel") or {}
    problem = _check(
        "concentration_pct",
        "Peel concentration",
        values.get("concentration_pct"),
        peel.get("concentration_pct"),
        " %",
    )
    if problem:
        found.append(problem)
    return found


def unconfirmed(problems, reasons):
    """The problems without a confirmation reason ({key: reason})."""
    return [p for p in problems if not (reasons.get(p.key) or "").strip()]
