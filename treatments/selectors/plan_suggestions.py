"""Run the plan engine on the current catalog; the catalog is read once per catalog revision."""

import threading
from dataclasses import dataclass

from treatments.engine import planning
from treatments.models import CatalogRevision
from treatments.selectors.catalog import snapshot
from treatments.selectors.patient_profile import profile_for_patient


@dataclass(frozen=True)
class CurrentCatalog:
    revision: int
    stamp: str
    data: dict
    engine: object


_lock = threading.Lock()
_cached: CurrentCatalog | None = None


def current_catalog():
    """The catalog as the engine wants it; rebuilt only when an admin changed something."""
    global _cached
    revision = CatalogRevision.objects.filter(pk=1).values_list("number", "stamp").first() or (0, "")
    number, stamp = revision[0], str(revision[1])
    cached = _cached
    if cached is not None and cached.stamp == stamp and cached.revision == number:
        return cached
    data = snapshot()
    fresh = CurrentCatalog(revision=number, stamp=stamp, data=data, engine=planning.prepare_catalog(data))
    with _lock:
        _cached = fresh
    return fresh


def validate(profile, catalog=None):
    catalog = catalog or current_catalog()
    return planning.validate_profile(profile, catalog.engine)


def suggest(profile, catalog=None):
    catalog = catalog or current_catalog()
    return planning.suggest_plan(profile, catalog.engine)


def suggest_for_patient(patient, *, today):
    """(profile, plan or None, problems) for a stored patient."""
    catalog = current_catalog()
    profile = profile_for_patient(patient, today=today)
    problems = planning.validate_profile(profile, catalog.engine)
    if problems:
        return profile, None, problems
    return profile, planning.suggest_plan(profile, catalog.engine), []
