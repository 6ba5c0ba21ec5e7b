"""Portal pages: the intake questionnaire, filled in by the patient before the first visit
(docs/portal.md, "Intake").

The same questionnaire as the clinic tablet (`patients.intake.QuestionnaireForm` over
`services.intake_questions()`). The answers wait for a clinician's review, as the tablet's do: only
`services.intake_review` turns them into history records. While they wait the patient may change
them (the same intake's answers are replaced); once reviewed, new answers start a new intake.
"""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinic.access_log import note_patient_access
from patients import services
from patients.intake import QuestionnaireForm, questionnaire_initial
from patients.models import IntakeSubmission
from patients.portal_views import current_account, patient_required
from treatments.models import Appointment

WAITING = "Your answers are waiting for the clinic's review."
SENT = "Thank you. Your answers were sent to the clinic. A clinician reads them before they go into your records."
CHANGED = "Thank you. Your changed answers were sent to the clinic."


def _last_reviewed(patient_id: int) -> IntakeSubmission | None:
    return (
        IntakeSubmission.objects.filter(patient_id=patient_id, status=IntakeSubmission.Status.REVIEWED)
        .only("pk", "reviewed_at")
        .order_by("-reviewed_at", "-pk")
        .first()
    )


def home_context(patient_id: int, now: datetime) -> dict[str, Any]:
    """What the portal's home page shows of this part, for templates/portal/_home_intake.html: the
    waiting answers, or, before the first visit with no reviewed intake, the invitation to fill it."""
    pending = services.pending_intake(patient_id)
    if pending is not None:
        return {"intake_waiting": WAITING, "intake_sent_at": pending.submitted_at}
    if _last_reviewed(patient_id) is not None:
        return {}
    visited = Appointment.objects.filter(patient_id=patient_id, status=Appointment.Status.COMPLETED).exists()
    return {} if visited else {"intake_invite": True}


@patient_required()
@require_http_methods(["GET", "POST"])
def portal_intake(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    patient = account.patient
    pending = services.pending_intake(patient.pk)
    form = QuestionnaireForm(
        request.POST or None,
        conditions=services.intake_questions(),
        initial=questionnaire_initial(pending.answers) if pending is not None else None,
        today=timezone.localdate(),
        born=patient.date_of_birth,
    )
    if request.method == "POST" and form.is_valid():
        try:
            _, replaced = services.intake_submit_from_portal(
                patient=patient, answers=form.answers(), by=account.user, now=timezone.now()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, CHANGED if replaced else SENT)
            return redirect("portal:home")
    if request.method == "GET":
        note_patient_access(request, patient.pk)
    context = {
        "form": form,
        "pending": pending,
        "waiting": WAITING,
        "reviewed": _last_reviewed(patient.pk) if pending is None else None,
    }
    return render(request, "portal/intake.html", context, status=400 if request.method == "POST" else 200)


urlpatterns: list[URLPattern] = [
    path("intake/", portal_intake, name="intake"),
]
