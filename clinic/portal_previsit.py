"""Portal pages: The pre-visit questions: a session's day-of screening answered on the phone before it. (docs/portal.md)"""

from datetime import datetime
from typing import Any

from django.urls import URLPattern


def home_context(patient_id: int, now: datetime) -> dict[str, Any]:
    """What the portal's home page shows of this part, for templates/portal/_home_previsit.html."""
    return {}


urlpatterns: list[URLPattern] = []
