"""Run the plan engine on the current catalog; the catalog is read once per catalog revision."""

import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from patients.models import Patient
from treatments.engine import planning
from treatments.engine.plan_results import Suggestion
from treatments.engine.profile_validation import Profile
from treatments.models import CatalogRevision
from treatments.selectors.catalog import snapshot
from treatments.selectors.patient_profile import profile_for_patient


@dataclass(frozen=True)
class CurrentCatalog:
    revision: int
    stamp: str
    data: dict[str, Any]
    engine: planning.Catalog


@dataclass(frozen=True)
class PatientSuggestion:
    """A stored patient's profile and the engine's plan for it, or the problems that prevent one."""

    profile: Profile
    suggestion: Suggestion | None
    problems: list[str]


_lock = threading.Lock()
_cached: CurrentCatalog | None = None


def current_catalog() -> CurrentCatalog:
    """The catalog as the engine wants it; rebuilt only when an admin changed something."""
    global _cached
    revision = CatalogRevision.objects.filter(pk=1).values_list("number", "stamp").first()
    number, stamp = (revision[0], str(revision[1])) if revision else (0, "")
    cached = _cached
    if cached is not None and cached.stamp == stamp and cached.revision == number:
        return cached
    data = snapshot()
    fresh = CurrentCatalog(revision=number, stamp=stamp, data=data, engine=planning.prepare_catalog(data))
    with _lock:
        _cached = fresh
    return fresh


def validate(profile: object, catalog: CurrentCatalog | None = None) -> list[str]:
    catalog = catalog or current_catalog()
    return planning.validate_profile(profile, catalog.engine)


def suggest(profile: Profile, catalog: CurrentCatalog | None = None) -> Suggestion:
    catalog = catalog or current_catalog()
    return planning.suggest_plan(profile, catalog.engine)


def suggest_for_patient(
    patient: Patient, *, today: date, catalog: CurrentCatalog | None = None
) -> PatientSuggestion:
    catalog = catalog or current_catalog()
    profile = profile_for_patient(patient, today=today)
    problems = planning.validate_profile(profile, catalog.engine)
    if problems:
        return PatientSuggestion(profile, None, problems)
    return PatientSuggestion(profile, planning.suggest_plan(profile, catalog.engine), [])
