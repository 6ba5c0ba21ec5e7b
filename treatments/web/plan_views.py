from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.disclosure import sees_clinical_detail
from clinic.roles import CLINICIAN, has_role, role_required
from patients.access import PATIENT_ROLES, get_patient
from patients.models import MedicalCondition
from treatments.engine.plan_choices import PlanChoices
from treatments.models import Plan, PlanConsent, Treatment
from treatments.selectors.plan_suggestions import current_catalog, suggest_for_patient
from treatments.services import consent, plans
from treatments.web.plan_forms import PlanChoiceFormSet

# The plan builder's second button: store the plan to wait for the patient's consent online.
SEND_FIELD = "send_for_consent"
SENT = (
    "Plan version {version} was sent to the patient to sign: they got a sign-in link to read it and "
    "sign its consent in the patient portal. It can be booked once they have signed."
)
INVITE_NOT_DELIVERED = (
    "The message with the link could not be sent. The plan still waits: the patient can sign in at "
    "the patient portal's page with their e-mail address or phone number."
)
NO_CONTACT = (
    "The patient has no e-mail address or phone number on file, so they cannot sign in to the "
    "patient portal. Add one, or record their signed consent on paper and accept the plan."
)
CATALOG_CHANGED = (
    "The catalog or the patient's record changed since this page was opened: review the updated suggestion."
)


def _names(catalog):
    return {
        "treatments": {t["slug"]: t["name"] for t in catalog.data["treatments"]},
        "concerns": {c["slug"]: c["name"] for c in catalog.data["concerns"]},
        "conditions": {c["slug"]: c["name"] for c in catalog.data["conditions"]},
        "areas": catalog.engine.tree.names,
    }


def _replaces(value: str) -> int | None:
    """The accepted plan the page showed; anything else reads as none, which a current plan refuses."""
    return int(value) if value.isdigit() else None


def _choices_formset(found, catalog, data=None):
    if found.suggestion is None:
        return None
    cleared = {(c["treatment"], c["condition"]) for c in found.profile.get("cleared", [])}
    return PlanChoiceFormSet(data, suggestion=found.suggestion, catalog_stamp=catalog.stamp, cleared=cleared)


def _render_builder(request, patient, found, catalog, *, formset=None, status=200):
    context = {
        "patient": patient,
        "profile": found.profile,
        "suggestion": found.suggestion,
        "formset": formset or _choices_formset(found, catalog),
        "problems": found.problems,
        "names": _names(catalog),
        "current_plan": Plan.objects.filter(patient=patient, status=Plan.Status.ACCEPTED)
        .defer(*Plan.RECORD_FIELDS)
        .first(),
        "awaiting_plan": Plan.objects.filter(patient=patient, status=Plan.Status.AWAITING_CONSENT)
        .defer(*Plan.RECORD_FIELDS)
        .order_by("-version")
        .first(),
        "can_send": bool(patient.email or patient.phone),
    }
    return render(request, "treatments/plan_builder.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def plan_builder(request, pk):
    patient = get_patient(request, pk, clinical=True)
    today = timezone.localdate()
    catalog = current_catalog()
    found = suggest_for_patient(patient, today=today, catalog=catalog)
    formset = _choices_formset(found, catalog, request.POST if request.method == "POST" else None)
    if formset is None or not formset.is_bound:
        return _render_builder(request, patient, found, catalog, formset=formset)
    if formset.stale:
        messages.warning(request, CATALOG_CHANGED)
        return _render_builder(request, patient, found, catalog)
    if not formset.is_valid():
        return _render_builder(request, patient, found, catalog, formset=formset, status=400)
    send = request.POST.get(SEND_FIELD) == "1"
    if send and not (patient.email or patient.phone):
        messages.error(request, NO_CONTACT)
        return _render_builder(request, patient, found, catalog, formset=formset)
    try:
        accepted = plans.plan_accept(
            patient=patient,
            today=today,
            profile=found.profile,
            suggestion=found.suggestion,
            choices=formset.choices(),
            catalog=catalog,
            replaces=_replaces(request.POST.get("replaces", "")),
            by=request.user,
            awaiting_consent=send,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render_builder(request, patient, found, catalog, formset=formset)
    if send:
        delivered = consent.plan_consent_invite(
            plan=accepted,
            now=timezone.now(),
            link_url=lambda token: request.build_absolute_uri(reverse("portal:link", args=[token])),
        )
        messages.success(request, SENT.format(version=accepted.version))
        if not delivered:
            messages.warning(request, INVITE_NOT_DELIVERED)
    else:
        messages.success(request, f"Plan version {accepted.version} accepted.")
    return redirect("treatments:plan_detail", plan_pk=accepted.pk)


@require_POST
@role_required(CLINICIAN)
def clearance_create(request, pk):
    patient = get_patient(request, pk, clinical=True)
    treatment = get_object_or_404(Treatment, slug=request.POST.get("treatment", ""))
    condition = get_object_or_404(MedicalCondition, slug=request.POST.get("condition", ""))
    try:
        plans.clearance_give(
            patient=patient,
            treatment=treatment,
            condition=condition,
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{condition.name} cleared for {treatment.name}.")
    return redirect("treatments:plan_builder", pk=patient.pk)


def _get_plan(request, plan_pk):
    plan = get_object_or_404(Plan.objects.select_related("patient", "accepted_by"), pk=plan_pk)
    get_patient(request, plan.patient_id)
    return plan


@require_GET
@role_required(*PATIENT_ROLES)
def plan_detail(request, plan_pk):
    plan = _get_plan(request, plan_pk)
    planned = plan.planned_sessions.select_related("treatment").prefetch_related("areas")
    clinical = sees_clinical_detail(request.user)
    context = {
        "plan": plan,
        "patient": plan.patient,
        "planned": planned,
        "clinical": clinical,
        # Front desk: that and when the patient signed online, never the text or the signature.
        "signed_online": PlanConsent.objects.filter(plan=plan).values_list("signed_at", flat=True).first(),
    }
    if clinical:
        catalog = current_catalog()
        context.update(
            names=_names(catalog),
            versions=plan.patient.plans.order_by("-version"),
            chosen=PlanChoices.from_json(plan.chosen),
        )
    return render(request, "treatments/plan_detail.html", context)


@require_POST
@role_required(CLINICIAN)
def plan_close(request, plan_pk):
    plan = _get_plan(request, plan_pk)
    if not has_role(request.user, CLINICIAN):
        raise PermissionDenied
    try:
        plans.plan_close(plan=plan, reason=request.POST.get("reason", ""), now=timezone.now())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Plan closed.")
    return redirect("treatments:plan_detail", plan_pk=plan.pk)
