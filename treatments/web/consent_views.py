"""What a clinician sees of a patient's electronic consent: the drawn signature and the whole signed
document (docs/portal.md, "E-consent"). Clinicians only: the front desk sees that a plan was signed,
never the consent's text or the signature."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from clinic.roles import CLINICIAN, role_required
from patients.access import get_patient
from treatments.models import PlanConsent
from treatments.selectors.consent import consent_summary


def _consent(request, plan_pk):
    consent = get_object_or_404(PlanConsent.objects.select_related("plan", "patient"), plan_id=plan_pk)
    get_patient(request, consent.patient_id, clinical=True)
    return consent


@require_GET
@role_required(CLINICIAN)
def plan_consent(request, plan_pk):
    consent = _consent(request, plan_pk)
    context = {
        "consent": consent,
        "patient": consent.patient,
        "plan": consent.plan,
        **consent_summary(consent),
    }
    return render(request, "treatments/plan_consent.html", context)


@require_GET
@role_required(CLINICIAN)
def plan_consent_signature(request, plan_pk):
    consent = _consent(request, plan_pk)
    try:
        handle = consent.signature.open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404("The signature file is missing.") from missing
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
