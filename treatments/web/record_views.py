"""The clinician's day and a session's clinical record: screening, procedure, photos, outcomes,
aftercare, signature and addenda. Clinicians only; the front desk works from the session panel."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.disclosure import refusal_on_form
from clinic.http import requested_day
from clinic.roles import CLINICIAN, role_required
from patients.access import get_patient
from patients.models import Concern, Patient
from treatments.models import Appointment, Plan, Practitioner, PreVisitCheck, SessionPhoto, SessionRecord
from treatments.selectors.availability import day_bounds
from treatments.selectors.consent import consent_for_session
from treatments.selectors.patient_profile import profile_for_patient, profiled
from treatments.selectors.plan_suggestions import current_catalog
from treatments.selectors.previsit import my_day_summary, previsit_for_session
from treatments.selectors.session_context import day_verdict, session_alerts, session_context
from treatments.selectors.session_versions import procedure_changes_since
from treatments.services import recording
from treatments.web.record_forms import (
    AddendumForm,
    OutcomeForm,
    PhotoForm,
    ProcedureForm,
    ScreeningForm,
    SignForm,
    field_label,
)


def _session(request, pk):
    session = get_object_or_404(
        Appointment.objects.select_related(
            "patient", "treatment", "practitioner__user", "room", "location", "plan", "planned_session"
        )
        # The record reads the plan's chosen limits, not the rest of what the plan was derived from.
        .defer(*(f"plan__{name}" for name in Plan.RECORD_FIELDS if name != "chosen"))
        .prefetch_related("areas", "devices"),
        pk=pk,
    )
    get_patient(request, session.patient_id, clinical=True)
    return session


def _record(session):
    return (
        SessionRecord.objects.filter(appointment=session).select_related("signed_by", "screened_by").first()
    )


@require_GET
@role_required(CLINICIAN)
def my_day(request):
    """The signed-in clinician's sessions of a day (today unless `?date=`), in order, each with its
    patient's alerts for that day."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    today = timezone.localdate()
    day = requested_day(request)
    sessions = []
    if practitioner is not None:
        start, end = day_bounds(day, day)
        sessions = list(
            Appointment.objects.filter(practitioner=practitioner, starts_at__gte=start, starts_at__lt=end)
            # The pre-visit answers joined in: the whole day in the same query.
            .select_related("treatment", "room", "record", "previsit")
            .prefetch_related("areas")
            .order_by("starts_at")
        )
        by_id = {p.pk: p for p in profiled(Patient.objects.filter(pk__in={s.patient_id for s in sessions}))}
        catalog = current_catalog()
        for session in sessions:
            session.patient = by_id[session.patient_id]
            profile = profile_for_patient(session.patient, today=day)
            verdict = day_verdict(appointment=session, catalog=catalog, profile=profile)
            session.alerts = session_alerts(
                appointment=session, catalog=catalog, profile=profile, verdict=verdict
            )
            try:
                check = session.previsit
            except PreVisitCheck.DoesNotExist:
                check = None
            session.previsit_summary = my_day_summary(check)
    return render(
        request,
        "treatments/records/my_day.html",
        {
            "day": day,
            "today": today,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "sessions": sessions,
            "practitioner": practitioner,
        },
    )


def _procedure_form(session, record, context, data=None):
    limits = context.limits
    depth_areas = sorted(limits.get("needle_depth_mm", {})) or list(context.areas)
    names = {a.slug: a.name for a in session.areas.all()}
    values = record.values if record else {}
    return ProcedureForm(
        data,
        record=record,
        fields=context.record_fields,
        depth_areas=[(slug, _area_name(context.catalog, slug, names)) for slug in depth_areas],
        limits=limits,
        session_day=context.day,
        initial={
            **ProcedureForm.initial_from(
                values,
                fields=context.record_fields,
                confirmations=record.confirmations if record else {},
                planned_depths=context.planned_depths,
                devices=[d.name for d in session.devices.all()],
                limits=limits,
            ),
            "notes": record.notes if record else "",
        },
    )


def _area_name(catalog, slug, names):
    if slug in names:
        return names[slug]
    area = next((a for a in catalog.data.get("areas", []) if a["slug"] == slug), None)
    return area["name"] if area else slug


def _open_concerns(session):
    return Concern.objects.filter(patient=session.patient, resolved_at__isnull=True).select_related("concern")


def _render(request, session, *, judged=None, status=200, **forms):
    """The record page; `judged` is the request's session context when a view already built it."""
    judged = judged or session_context(session)
    record = _record(session)
    signed = bool(record and record.signed)
    screened = bool(record and record.screened_at)
    stopped = bool(record and record.stopped)
    context = {
        "session": session,
        "record": record,
        "alerts": judged.alerts,
        "aftercare": session.treatment.aftercare_lines(),
        "photos": list(SessionPhoto.objects.filter(appointment=session).select_related("area")),
        "outcomes": list(session.outcomes.select_related("concern__concern")),
        "can_edit": screened and not stopped and not signed,
        "previsit": previsit_for_session(session),
        "plan_consent": consent_for_session(session),
    }
    if not screened and session.status in Appointment.OPEN:
        context["screening_form"] = forms.get("screening_form") or _screening_form(
            judged, previsit=context["previsit"]
        )
        context["consent_problems"] = recording.consent_problems(appointment=session, context=judged)
    if context["can_edit"]:
        context["procedure_form"] = forms.get("procedure_form") or _procedure_form(session, record, judged)
        context["outcome_form"] = forms.get("outcome_form") or OutcomeForm(
            concerns=_open_concerns(session), kept={o.concern_id: o for o in context["outcomes"]}
        )
        context["photo_form"] = forms.get("photo_form") or PhotoForm(areas=session.areas.all())
        context["sign_form"] = forms.get("sign_form") or SignForm()
    if signed:
        context["addendum_form"] = forms.get("addendum_form") or AddendumForm()
        context["addenda"] = list(record.addenda.select_related("author"))
    if record:
        context["history"] = list(
            record.history.select_related("history_user").order_by("-history_date")[:50]
        )
        context["values"] = _shown_values(judged, record)
    if session.status == Appointment.Status.CANCELLED and session.planned_session_id:
        context["rebook"] = session.planned_session
    return render(request, "treatments/records/record.html", context, status=status)


def _screening_form(judged, data=None, *, previsit=None):
    """The screening's questions; before they are asked, filled in with the patient's pre-visit
    answers (previsit_for_session), which the clinician confirms with the patient one by one."""
    answered = previsit if previsit and previsit["answered"] and not previsit["confirmed_at"] else None
    return ScreeningForm(
        data,
        questions=judged.checklist,
        precautions=judged.precautions,
        patient_answers=answered["answers"] if answered else None,
        patient_medications=answered["new_medications"] if answered else "",
    )


def _shown_values(judged, record):
    rows = []
    for spec in judged.record_fields:
        value = record.values.get(spec.key)
        if spec.per_area and value:
            unit = f" {spec.unit}" if spec.unit else ""
            value = ", ".join(f"{area}: {number:g}{unit}" for area, number in sorted(value.items()))
        if value not in (None, ""):
            rows.append((field_label(spec), value))
    return rows


@require_GET
@role_required(CLINICIAN)
def session_record(request, pk):
    return _render(request, _session(request, pk))


def _back(session, anchor=""):
    return redirect(reverse("treatments:session_record", args=[session.pk]) + anchor)


def _locked(request, session, judged=None):
    """The page again with a 409 when the record is signed: edits become addenda."""
    if SessionRecord.objects.filter(appointment=session, signed_at__isnull=False).exists():
        messages.error(request, recording.LOCKED)
        return _render(request, session, judged=judged, status=409)
    return None


def _refused(request, session, error, form=None, form_name=None, judged=None):
    """Put a service's ValidationError on the form (or as a message) and show the page again."""
    if form is not None and hasattr(error, "error_dict"):
        refusal_on_form(form, error, request.user)
    else:
        for problem in error.messages:
            messages.error(request, problem)
    status = 409 if recording.LOCKED in error.messages or _edited_meanwhile(error) else 400
    extra = {form_name: form} if form is not None else {}
    return _render(request, session, judged=judged, status=status, **extra)


def _edited_meanwhile(error):
    problems = error.error_list if not hasattr(error, "error_dict") else []
    return any(problem.code == recording.EDITED_MEANWHILE for problem in problems)


@require_POST
@role_required(CLINICIAN)
def record_screening(request, pk):
    session = _session(request, pk)
    judged = session_context(session)
    if locked := _locked(request, session, judged):
        return locked
    form = _screening_form(judged, request.POST)
    if not form.is_valid():
        return _render(request, session, judged=judged, status=400, screening_form=form)
    try:
        record = recording.session_screen(
            appointment=session,
            context=judged,
            answers=form.answers(),
            followed=form.precautions_followed(),
            consent_confirmed=form.cleaned_data["consent_confirmed"],
            photos_taken=form.cleaned_data["photos_taken"] == "yes",
            new_medications=form.cleaned_data["new_medications"],
            by=request.user,
        )
    except ValidationError as error:
        return _refused(request, session, error, form, "screening_form", judged)
    if record.stopped:
        messages.warning(request, "The session is stopped: the findings are in the patient's history.")
    else:
        messages.success(request, "Screening recorded. The session is in progress.")
    return _back(session)


@require_POST
@role_required(CLINICIAN)
def record_procedure(request, pk):
    session = _session(request, pk)
    judged = session_context(session)
    if locked := _locked(request, session, judged):
        return locked
    form = _procedure_form(session, _record(session), judged, data=request.POST)
    if not form.is_valid():
        if form.has_error(NON_FIELD_ERRORS, recording.EDITED_MEANWHILE):
            return _edited_meanwhile_page(request, session, judged, form)
        return _render(request, session, judged=judged, status=400, procedure_form=form)
    try:
        recording.procedure_save(
            appointment=session,
            context=judged,
            values=form.values(),
            notes=form.cleaned_data["notes"],
            confirmations=form.confirmations(),
            by=request.user,
            seen_version=form.seen_version,
        )
    except ValidationError as error:
        if _edited_meanwhile(error):
            # Another save won the lock after this form was checked: checking the form again now
            # names who changed what, and keeps the typing over the newer version.
            form = _procedure_form(session, _record(session), judged, data=request.POST)
            if not form.is_valid():
                return _edited_meanwhile_page(request, session, judged, form)
        return _refused(request, session, error, form, "procedure_form", judged)
    messages.success(request, "Procedure saved.")
    return _back(session, "#outcomes")


def _edited_meanwhile_page(request, session, judged, form):
    """409 with the refused form: the typing kept, who changed the record and when, and what the
    newer save holds, since the page shows the form rather than the saved values."""
    form.note_saved_meanwhile(procedure_changes_since(form.instance, form.seen_version))
    return _render(request, session, judged=judged, status=409, procedure_form=form)


@require_POST
@role_required(CLINICIAN)
def record_outcomes(request, pk):
    session = _session(request, pk)
    if locked := _locked(request, session):
        return locked
    form = OutcomeForm(request.POST, concerns=_open_concerns(session))
    if not form.is_valid():
        return _render(request, session, status=400, outcome_form=form)
    try:
        recording.outcomes_save(appointment=session, scores=form.scores(), by=request.user)
    except ValidationError as error:
        return _refused(request, session, error, form, "outcome_form")
    messages.success(request, "Outcome scores saved.")
    return _back(session, "#outcomes")


@require_POST
@role_required(CLINICIAN)
def record_photo(request, pk):
    session = _session(request, pk)
    if locked := _locked(request, session):
        return locked
    form = PhotoForm(request.POST, request.FILES, areas=session.areas.all())
    if not form.is_valid():
        return _render(request, session, status=400, photo_form=form)
    try:
        recording.photo_add(
            appointment=session,
            area=form.cleaned_data["area"],
            kind=form.cleaned_data["kind"],
            image=form.cleaned_data["image"],
            by=request.user,
        )
    except ValidationError as error:
        return _refused(request, session, error, form, "photo_form")
    messages.success(request, "Photo added.")
    return _back(session, "#photos")


@require_POST
@role_required(CLINICIAN)
def record_sign(request, pk):
    session = _session(request, pk)
    if locked := _locked(request, session):
        return locked
    form = SignForm(request.POST)
    form.is_valid()
    try:
        recording.record_sign(
            appointment=session,
            aftercare_given=bool(form.cleaned_data.get("aftercare_given")),
            by=request.user,
        )
    except ValidationError as error:
        return _refused(request, session, error, form, "sign_form")
    messages.success(request, "Record signed. The session is completed.")
    return _back(session)


@require_POST
@role_required(CLINICIAN)
def record_addendum(request, pk):
    session = _session(request, pk)
    record = get_object_or_404(SessionRecord, appointment=session)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _render(request, session, status=400, addendum_form=form)
    try:
        recording.addendum_add(
            record=record, text=form.cleaned_data["text"], reason=form.cleaned_data["reason"], by=request.user
        )
    except ValidationError as error:
        return _refused(request, session, error, form, "addendum_form")
    messages.success(request, "Addendum added.")
    return _back(session, "#addenda")


@require_GET
@role_required(CLINICIAN)
def photo(request, pk):
    item = get_object_or_404(SessionPhoto.objects.select_related("appointment"), pk=pk)
    get_patient(request, item.appointment.patient_id, clinical=True)
    try:
        handle = item.image.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The photo file is missing.") from missing
    response = FileResponse(handle, content_type=item.content_type or "application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@role_required(CLINICIAN)
def aftercare_sheet(request, pk):
    session = _session(request, pk)
    return render(
        request,
        "treatments/records/aftercare.html",
        {"session": session, "aftercare": session.treatment.aftercare_lines(), "record": _record(session)},
    )
