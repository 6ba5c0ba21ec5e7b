"""Portal pages: E-consent: the patient reads a plan version and its consent forms and signs them. (docs/portal.md)"""

from datetime import datetime
from typing import Any

from django.urls import URLPattern


def home_context(patient_id: int, now: datetime) -> dict[str, Any]:
    """What the portal's home page shows of this part, for templates/portal/_home_consent.html."""
    return {}


urlpatterns: list[URLPattern] = []
