"""The patient portal's pages that show a patient their plan and sessions (docs/portal.md).

They live in the project layer because they compose both apps, as the staff patient page does:
the signed-in patient comes from `patients`, the plans and sessions from `treatments`.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.access_log import note_patient_access
from patients import portal_urls
from patients.portal_views import current_account, patient_required
from treatments.selectors.portal import last_aftercare, portal_plans, portal_session, portal_sessions


@patient_required()
@require_GET
def portal_home(request: HttpRequest) -> HttpResponse:
    patient = current_account(request).patient
    note_patient_access(request, patient.pk)
    upcoming, past = portal_sessions(patient.pk, now=timezone.now())
    context = {
        "first_name": patient.first_name,
        "plans": portal_plans(patient.pk),
        "upcoming": upcoming,
        "past": past,
        "last_aftercare": last_aftercare(patient.pk),
    }
    return render(request, "portal/home.html", context)


@patient_required(others_get_404=True)
@require_GET
def portal_session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = current_account(request).patient
    # Another patient's session is as unknown as one that does not exist: 404, never 403.
    detail = portal_session(patient.pk, pk)
    if detail is None:
        raise Http404
    note_patient_access(request, patient.pk)
    return render(request, "portal/session.html", {"detail": detail})


app_name = portal_urls.app_name
urlpatterns = [
    *portal_urls.urlpatterns,
    path("home/", portal_home, name="home"),
    path("sessions/<int:pk>/", portal_session_detail, name="session"),
]
