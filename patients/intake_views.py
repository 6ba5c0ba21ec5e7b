from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clinic.roles import CLINICIAN, role_required
from patients import services
from patients.access import get_patient
from patients.intake import IntakeCodeForm, QuestionnaireForm, ReviewFormSet, review_initial
from patients.models import IntakeSubmission

UNKNOWN_CODE = "That code is not valid. Please check it with the front desk."


def _open_intake(token):
    intake = IntakeSubmission.objects.filter(token=token).select_related("patient").first()
    if intake is None:
        raise Http404
    return intake


# The tablet pages need no login: the patient holds only a short-lived, single-use code and sees
# nothing but their own questionnaire (first name only).
@login_not_required
@require_http_methods(["GET", "POST"])
def intake_enter(request):
    form = IntakeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        intake = IntakeSubmission.objects.filter(code=form.cleaned_data["code"]).first()
        if intake is None:
            form.add_error("code", UNKNOWN_CODE)
        else:
            try:
                services.intake_check_open(intake, now=timezone.now())
            except ValidationError as error:
                form.add_error("code", error)
            else:
                return redirect("intake_fill", token=intake.token)
    return render(request, "patients/intake_enter.html", {"form": form})


@login_not_required
@require_http_methods(["GET", "POST"])
def intake_fill(request: HttpRequest, token: str) -> HttpResponse:
    intake = _open_intake(token)
    try:
        services.intake_check_open(intake, now=timezone.now())
    except ValidationError as error:
        return render(request, "patients/intake_closed.html", {"reason": error.messages[0]}, status=410)
    form = QuestionnaireForm(
        request.POST or None,
        conditions=services.intake_questions(),
        today=timezone.localdate(),
        born=intake.patient.date_of_birth,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.intake_submit(intake=intake, answers=form.answers(), now=timezone.now())
        except ValidationError as error:
            return render(request, "patients/intake_closed.html", {"reason": error.messages[0]}, status=410)
        return redirect("intake_done")
    return render(
        request, "patients/intake_fill.html", {"form": form, "first_name": intake.patient.first_name}
    )


@login_not_required
@require_GET
def intake_done(request):
    return render(request, "patients/intake_done.html")


def reviewed_message(result: services.IntakeReviewResult) -> str:
    count = len(result.created)
    message = f"Intake reviewed: {count} {'entry' if count == 1 else 'entries'} added to the medical history."
    if result.kept:
        names = ", ".join(record.condition.name for record in result.kept)
        message += f" Already in the history, kept as one record: {names}."
    return message


def _read_at(value):
    """When the answers on the review page were sent, as the page posts it; None if it does not."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def intake_review(request: HttpRequest, pk: int, intake_pk: int) -> HttpResponse:
    patient = get_patient(request, pk, clinical=True)
    intake = get_object_or_404(IntakeSubmission, pk=intake_pk, patient=patient, submitted_at__isnull=False)
    today = timezone.localdate()
    formset = ReviewFormSet(
        request.POST or None,
        initial=review_initial(intake),
        prefix="entry",
        form_kwargs={
            "today": today,
            "born": patient.date_of_birth,
            "ongoing": services.ongoing_history(patient_id=patient.pk, today=today),
        },
    )
    if request.method == "POST" and formset.is_valid():
        accepted = [
            {key: form.cleaned_data[key] for key in ("condition", "areas", "since", "until", "notes")}
            for form in formset
            if form.cleaned_data.get("include")
        ]
        try:
            result = services.intake_review(
                intake=intake,
                accepted=accepted,
                by=request.user,
                now=timezone.now(),
                other_allergies=intake.answers.get("other_allergies", ""),
                expected_submitted_at=_read_at(request.POST.get("submitted_at", "")),
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
            if error.code == "changed":
                # The patient's new answers, read afresh: the clinician's ticks were for the old ones.
                return redirect("patients:intake_review", pk=patient.pk, intake_pk=intake.pk)
        else:
            messages.success(request, reviewed_message(result))
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request, "patients/intake_review.html", {"patient": patient, "intake": intake, "formset": formset}
    )
