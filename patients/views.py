import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.roles import CLINICIAN, role_required
from patients import services
from patients.access import PATIENT_ROLES, get_patient
from patients.filters import PatientFilter
from patients.forms import (
    ClinicalProfileForm,
    ConcernForm,
    ConditionRecordForm,
    ConsentRecordForm,
    PatientForm,
)
from patients.models import Concern, ConditionRecord, IntakeSubmission, Patient

PAGE_SIZE = 25


def _form_errors_to_messages(request, error):
    for message in error.messages:
        messages.error(request, message)


# A patient search is posted, not put in the URL: a name in a request line ends up in access logs,
# proxies and the browser's history. The criteria are kept in the session under an opaque token,
# and the results page (and its pages) is addressed by that token alone (docs/security.md).
SEARCH_FIELDS = ("q", "status", "preferred_practitioner")
SEARCH_PARAM = "search"
SESSION_SEARCHES = "patient_searches"
SEARCHES_KEPT = 20
SEARCH_EXPIRED = "That search has expired: search again."


def _remember_search(request, criteria):
    """Keep the criteria in the session and return their token; only the latest searches are kept."""
    searches = request.session.get(SESSION_SEARCHES, {})
    token = secrets.token_urlsafe(9)
    searches[token] = criteria
    request.session[SESSION_SEARCHES] = dict(list(searches.items())[-SEARCHES_KEPT:])
    return token


def _search_redirect(request):
    posted = {field: request.POST.get(field, "").strip()[:200] for field in SEARCH_FIELDS}
    criteria = {field: value for field, value in posted.items() if value}
    # A status or a practitioner identifies no patient: alone, they may stay in the address.
    params = {SEARCH_PARAM: _remember_search(request, criteria)} if "q" in criteria else criteria
    url = reverse("patients:list")
    return redirect(f"{url}?{urlencode(params)}" if params else url)


def _search_criteria(request):
    """(filter data, query string of the pages' links) for a GET of the list."""
    token = request.GET.get(SEARCH_PARAM)
    if token is None:  # no search, or the filters alone (or an old link's ?q=, still honoured)
        query = request.GET.copy()
        query.pop("page", None)
        return request.GET, query.urlencode()
    criteria = request.session.get(SESSION_SEARCHES, {}).get(token)
    if criteria is None:
        messages.info(request, SEARCH_EXPIRED)
        return {}, ""
    return criteria, urlencode({SEARCH_PARAM: token})


@require_http_methods(["GET", "POST"])
@role_required(*PATIENT_ROLES)
def patient_list(request):
    if request.method == "POST":
        return _search_redirect(request)
    data, query = _search_criteria(request)
    patient_filter = PatientFilter(data, queryset=Patient.objects.select_related("preferred_practitioner"))
    page = Paginator(patient_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/patient_list.html",
        {"filter": patient_filter, "page": page, "query": query},
    )


@require_http_methods(["GET", "POST"])
@role_required(*PATIENT_ROLES)
def patient_create(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, ValidationError(error.messages))
        else:
            messages.success(request, f"{patient.full_name} is registered.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "title": "Register a patient"})


@require_http_methods(["GET", "POST"])
@role_required(*PATIENT_ROLES)
def patient_edit(request, pk):
    patient = get_patient(request, pk)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(patient=patient, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, ValidationError(error.messages))
        else:
            messages.success(request, "Patient details saved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient, "title": "Edit details"}
    )


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def clinical_profile_edit(request, pk):
    patient = get_patient(request, pk, clinical=True)
    form = ClinicalProfileForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        services.patient_update(patient=patient, **form.cleaned_data)
        messages.success(request, "Skin type and allergies saved.")
        return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "patient": patient, "title": "Skin type and allergies"},
    )


@require_POST
@role_required(*PATIENT_ROLES)
def patient_archive(request, pk):
    patient = get_patient(request, pk)
    if request.POST.get("restore"):
        services.patient_restore(patient=patient)
        messages.success(request, f"{patient.full_name} is active again.")
    else:
        services.patient_archive(patient=patient, now=timezone.now())
        messages.success(request, f"{patient.full_name} is archived. Their records are kept.")
    return redirect("patients:detail", pk=patient.pk)


def _clinical_form_view(request, patient, form, save, *, title, success):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, ValidationError(error.messages))
        else:
            messages.success(request, success)
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/clinical_form.html", {"form": form, "patient": patient, "title": title})


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def condition_create(request, pk):
    patient = get_patient(request, pk, clinical=True)
    form = ConditionRecordForm(request.POST or None)
    return _clinical_form_view(
        request,
        patient,
        form,
        lambda data: services.condition_record_create(patient=patient, by=request.user, **data),
        title="Add to medical history",
        success="Medical history updated.",
    )


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def condition_edit(request, pk, record_pk):
    patient = get_patient(request, pk, clinical=True)
    record = get_object_or_404(ConditionRecord, pk=record_pk, patient=patient)
    form = ConditionRecordForm(request.POST or None, instance=record)
    return _clinical_form_view(
        request,
        patient,
        form,
        lambda data: services.condition_record_update(record=record, **data),
        title=f"Edit {record.condition.name}",
        success="Medical history updated.",
    )


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def concern_create(request, pk):
    patient = get_patient(request, pk, clinical=True)
    form = ConcernForm(request.POST or None)
    return _clinical_form_view(
        request,
        patient,
        form,
        lambda data: services.concern_create(patient=patient, by=request.user, **data),
        title="Add a concern",
        success="Concern added.",
    )


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def concern_edit(request, pk, concern_pk):
    patient = get_patient(request, pk, clinical=True)
    item = get_object_or_404(Concern, pk=concern_pk, patient=patient)
    form = ConcernForm(request.POST or None, instance=item)
    return _clinical_form_view(
        request,
        patient,
        form,
        lambda data: services.concern_update(item=item, **data),
        title=f"Edit {item.concern.name}",
        success="Concern updated.",
    )


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def consent_create(request, pk):
    patient = get_patient(request, pk, clinical=True)
    form = ConsentRecordForm(request.POST or None, initial={"signed_on": timezone.localdate()})
    return _clinical_form_view(
        request,
        patient,
        form,
        lambda data: services.consent_record(patient=patient, by=request.user, **data),
        title="Record a signed consent",
        success="Consent recorded.",
    )


@require_GET
@role_required(CLINICIAN)
def history_view(request, pk):
    patient = get_patient(request, pk, clinical=True)
    records = ConditionRecord.history.filter(patient_id=patient.pk).select_related(
        "history_user", "condition"
    )
    concerns = Concern.history.filter(patient_id=patient.pk).select_related("history_user", "concern")
    return render(
        request,
        "patients/patient_history.html",
        {"patient": patient, "records": records[:200], "concerns": concerns[:200]},
    )


@require_POST
@role_required(*PATIENT_ROLES)
def intake_start(request, pk):
    patient = get_patient(request, pk)
    try:
        intake = services.intake_start(patient=patient, by=request.user, now=timezone.now())
    except ValidationError as error:
        _form_errors_to_messages(request, error)
        return redirect("patients:detail", pk=patient.pk)
    return redirect("patients:intake_handout", pk=patient.pk, intake_pk=intake.pk)


@require_GET
@role_required(*PATIENT_ROLES)
def intake_handout(request, pk, intake_pk):
    patient = get_patient(request, pk)
    intake = get_object_or_404(IntakeSubmission, pk=intake_pk, patient=patient)
    return render(request, "patients/intake_handout.html", {"patient": patient, "intake": intake})
