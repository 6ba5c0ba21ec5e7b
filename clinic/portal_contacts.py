"""The clinic's phone numbers for the portal's pages, which ask patients to call the clinic
whenever it cannot help online (a refused day, a session within the notice, a passed window)."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from treatments.models import Location


def _phones() -> list[tuple[str, str]]:
    return list(Location.objects.filter(active=True).exclude(phone="").values_list("name", "phone"))


def clinic_phones(request: HttpRequest) -> dict[str, Any]:
    """Context processor: (location name, phone) of each active location with a number. Read only
    by the templates that show it (the portal's base), once a page."""
    return {"clinic_phones": SimpleLazyObject(_phones)}
