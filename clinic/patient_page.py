"""The patient page: what `patients` knows of a patient beside what `treatments` did for them.

It lives in the project layer because it composes both apps; `patients` never imports `treatments`.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.http import url_for_pk
from clinic.roles import CLINICIAN, has_role, role_required
from patients.access import PATIENT_ROLES, get_patient
from treatments.selectors.consent import awaiting_plans, signed_consents
from treatments.selectors.progress import concern_scores, plan_progress
from treatments.selectors.sessions import patient_sessions, practitioner_names
from treatments.selectors.waitlist import waiting_for_patient


@require_GET
@role_required(*PATIENT_ROLES)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    context = {
        "patient": patient,
        "consents": patient.consents.select_related("form"),
        "intakes": patient.intakes.select_related("reviewed_by")[:5],
    }
    context["upcoming_sessions"], context["past_sessions"] = patient_sessions(
        patient.pk, names=practitioner_names(), url=url_for_pk("treatments:session")
    )
    context["plan_progress"] = plan_progress(patient)
    # Plans sent to the patient to sign online (never booked while they wait), and the consents
    # signed online: staff see that and when; only clinicians open the text and the signature.
    context["awaiting_plans"] = awaiting_plans(patient.pk)
    context["signed_online"] = signed_consents(patient.pk)
    context["waitlist"] = waiting_for_patient(patient.pk)
    if has_role(request.user, CLINICIAN):
        today = timezone.localdate()
        records = list(patient.conditions.select_related("condition").prefetch_related("areas"))
        context.update(
            clinical=True,
            today=today,
            ongoing=[r for r in records if r.is_ongoing(today)],
            ended=[r for r in records if not r.is_ongoing(today)],
            concerns=patient.concerns.select_related("concern").prefetch_related("areas"),
            concern_scores=concern_scores(patient),
        )
    return render(request, "patients/patient_detail.html", context)
