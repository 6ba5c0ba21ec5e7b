"""Procedure values outside the catalog's safe ranges, which a clinician must confirm with a reason.

Pure: `limits` is the settings block of a plan option (see plan-api.md), e.g.
{"needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}}, "peel": {"concentration_pct": {...}}}.
"""

from dataclasses import dataclass

from treatments.engine.planning import _settings, prepare_catalog


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


def _widen(kept, bounds):
    if not kept:
        return dict(bounds)
    low = [v for v in (kept.get("min"), bounds.get("min")) if v is not None]
    high = [v for v in (kept.get("max"), bounds.get("max")) if v is not None]
    return {"min": min(low, default=None), "max": max(high, default=None)}


def session_limits(catalog, treatment, areas, fitzpatrick):
    """The safe ranges for a session outside a plan: the widest range any of the catalog's
    protocols for `treatment` allows on these areas."""
    catalog = prepare_catalog(catalog)
    limits = {}
    for protocols in catalog.protocols.values():
        for protocol in protocols:
            if protocol["treatment"] != treatment:
                continue
            settings = _settings(catalog, protocol, areas, fitzpatrick)
            for area, bounds in (settings.get("needle_depth_mm") or {}).items():
                depths = limits.setdefault("needle_depth_mm", {})
                depths[area] = _widen(depths.get(area), bounds)
            strength = (settings.get("peel") or {}).get("concentration_pct")
            if strength:
                peel = limits.setdefault("peel", {"agent": settings["peel"].get("agent", "")})
                peel["concentration_pct"] = _widen(peel.get("concentration_pct"), strength)
    return limits


def plan_settings(chosen, treatment, areas):
    """(safe ranges, planned depths {area: mm}) from the accepted plan's choices for `treatment`
    on any of `areas`; both empty when the plan has none."""
    limits, planned = {}, {}
    for item in (chosen or {}).get("items", []):
        if item.get("treatment") != treatment or not set(item.get("areas", [])) & set(areas):
            continue
        for key, value in ((item.get("option") or {}).get("settings") or {}).items():
            if key == "needle_depth_mm":
                limits.setdefault(key, {}).update(value)
            else:
                limits.setdefault(key, value)
        planned.update(item.get("depths") or {})
    return limits, planned
