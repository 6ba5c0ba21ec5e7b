"""Portal pages: E-consent: the patient reads a plan version and its consent forms and signs them.
(docs/portal.md, "E-consent")

A clinician sends a plan to the patient from the plan builder ("Send to the patient to sign"); it
waits, never bookable, until the patient signs here; then it is the accepted plan.
"""

import base64
import binascii
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.access_log import note_patient_access
from patients.portal_views import current_account, patient_required
from treatments.models import Plan, PlanConsent
from treatments.selectors.consent import awaiting_plans, consent_document, signed_consents
from treatments.services import consent as service

DATA_URL = "data:image/png;base64,"
AGREE_NEEDED = "Please tick the box to say you have read the document and agree."
NAME_NEEDED = "Please type your full name."
SIGNED = "Thank you: your consent is signed. Your plan is ready, and you can book its visits."


class ConsentSignForm(forms.Form):
    typed_name = forms.CharField(
        label="Your full name",
        max_length=200,
        error_messages={"required": NAME_NEEDED},
        widget=forms.TextInput(attrs={"autocomplete": "name", "class": "form-control"}),
    )
    # The drawn signature as signature_pad gives it: a PNG data URL (static/js/consent.js).
    signature = forms.CharField(
        required=False,
        max_length=len(DATA_URL) + (service.MAX_SIGNATURE_BYTES * 4) // 3 + 4,
        widget=forms.HiddenInput,
        error_messages={"max_length": service.SIGNATURE_UNREADABLE},
    )
    agree = forms.BooleanField(
        label="I have read this document and I agree to it",
        error_messages={"required": AGREE_NEEDED},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    document_hash = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, patient: Any, **kwargs: Any) -> None:
        self.patient = patient
        super().__init__(*args, **kwargs)

    def clean_typed_name(self) -> str:
        typed: str = self.cleaned_data["typed_name"]
        if not service.same_name(typed, self.patient):
            name = f"{self.patient.first_name} {self.patient.last_name}"
            raise ValidationError(service.NAME_MISMATCH.format(name=name))
        return typed

    def clean_signature(self) -> bytes:
        value: str = self.cleaned_data.get("signature") or ""
        if not value:
            raise ValidationError(service.SIGNATURE_EMPTY)
        if not value.startswith(DATA_URL):
            raise ValidationError(service.SIGNATURE_UNREADABLE)
        try:
            png = base64.b64decode(value[len(DATA_URL) :], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(service.SIGNATURE_UNREADABLE) from None
        service.signature_check(png)
        return png


def _plan(request: HttpRequest, pk: int) -> Plan:
    """The signed-in patient's own plan; another patient's is as unknown as none: 404."""
    patient = current_account(request).patient
    plan = (
        Plan.objects.select_related("patient")
        .defer(*Plan.RECORD_FIELDS)
        .filter(pk=pk, patient_id=patient.pk)
        .first()
    )
    if plan is None:
        raise Http404
    return plan


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _page(
    request: HttpRequest,
    plan: Plan,
    form: ConsentSignForm | None = None,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    document = consent_document(plan)
    if document is None:
        raise Http404
    if form is None or problem:
        # A fresh form carries the hash of the document shown now; the name typed is kept.
        typed = form.data.get("typed_name", "") if form is not None else ""
        form = ConsentSignForm(
            patient=plan.patient, initial={"document_hash": document.digest, "typed_name": typed}
        )
    # A signature drawn right is drawn again on the box after another field's error.
    kept_signature = (
        form.data.get("signature", "") if form.is_bound and "signature" not in form.errors else ""
    )
    context = {
        "plan": plan,
        "document": document,
        "form": form,
        "problem": problem,
        "kept_signature": kept_signature,
    }
    return render(request, "portal/consent.html", context, status=status)


def _signed_page(request: HttpRequest, plan: Plan, consent: PlanConsent) -> HttpResponse:
    return render(request, "portal/consent_signed.html", {"plan": plan, "consent": consent})


def _refused(request: HttpRequest, plan: Plan, reason: str, *, status: int = 200) -> HttpResponse:
    return render(request, "portal/consent_refused.html", {"plan": plan, "reason": reason}, status=status)


@patient_required(others_get_404=True)
@never_cache
@require_http_methods(["GET", "POST"])
def portal_consent(request: HttpRequest, pk: int) -> HttpResponse:
    account = current_account(request)
    plan = _plan(request, pk)
    consent = PlanConsent.objects.filter(plan=plan).first()
    if request.method == "GET":
        note_patient_access(request, account.patient.pk)
        if consent is not None:
            return _signed_page(request, plan, consent)
        if plan.status != Plan.Status.AWAITING_CONSENT:
            return _refused(request, plan, service.refusal_reason(plan))
        return _page(request, plan)
    if consent is not None:
        messages.info(request, service.ALREADY_SIGNED)
        return redirect("portal:home")
    form = ConsentSignForm(request.POST, patient=plan.patient)
    if plan.status != Plan.Status.AWAITING_CONSENT:
        return _refused(request, plan, service.refusal_reason(plan), status=409)
    if not form.is_valid():
        return _page(request, plan, form, status=400)
    try:
        service.plan_consent_sign(
            plan=plan,
            typed_name=form.cleaned_data["typed_name"],
            signature_png=form.cleaned_data["signature"],
            shown_hash=form.cleaned_data["document_hash"],
            client_address=_client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            by=account.user,
            now=timezone.now(),
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                for each in errors:
                    form.add_error(field if field in form.fields else None, each)
            return _page(request, plan, form, status=400)
        if getattr(error, "code", None) == "changed":
            # The text changed meanwhile: the new one is shown, to be read and signed anew.
            return _page(request, plan, form, problem=error.messages[0], status=409)
        if error.messages[0] == service.ALREADY_SIGNED:  # another tab signed first
            messages.info(request, service.ALREADY_SIGNED)
            return redirect("portal:home")
        return _refused(request, plan, error.messages[0], status=409)
    messages.success(request, SIGNED)
    return redirect("portal:home")


def home_context(patient_id: int, now: datetime) -> dict[str, Any]:
    """What the portal's home page shows of this part, for templates/portal/_home_consent.html."""
    return {
        "consent_awaiting": awaiting_plans(patient_id),
        "consents_signed": signed_consents(patient_id),
    }


urlpatterns: list[URLPattern] = [
    path("plans/<int:pk>/consent/", portal_consent, name="consent"),
]
