"""Portal pages: The intake questionnaire, filled in by the patient before the first visit. (docs/portal.md)"""

from datetime import datetime
from typing import Any

from django.urls import URLPattern


def home_context(patient_id: int, now: datetime) -> dict[str, Any]:
    """What the portal's home page shows of this part, for templates/portal/_home_intake.html."""
    return {}


urlpatterns: list[URLPattern] = []
