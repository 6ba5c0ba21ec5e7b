"""The waitlist pages: who waits, adding a patient, and the offers a freed slot makes."""

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.disclosure import CLINICAL, disclosed_refusal, refusal_on_form, sees_clinical_detail
from clinic.http import safe_next
from clinic.roles import CLINICIAN, FRONT_DESK, role_required
from patients.access import get_patient
from treatments.models import WaitlistEntry
from treatments.selectors.waitlist import FreedSlot, offers_for, waiting
from treatments.services import booking, waitlist
from treatments.web.waitlist_forms import FreedSlotForm, WaitlistBookForm, WaitlistForm

STAFF = (FRONT_DESK, CLINICIAN)
# What the front desk reads of a relative contraindication or a precaution (clinic.disclosure).
ONLY_A_CLINICIAN_READS = (
    "This treatment has a contraindication or a precaution for this patient that a clinician must review."
)


@require_GET
@role_required(*STAFF)
def waitlist_list(request: HttpRequest) -> HttpResponse:
    entries = list(waiting().order_by("latest", "added_at"))
    return render(request, "treatments/waitlist/list.html", {"entries": entries})


@require_http_methods(["GET", "POST"])
@role_required(*STAFF)
def waitlist_add(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    form = WaitlistForm(request.POST or None, patient=patient)
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            waitlist.waitlist_add(
                patient=patient,
                by=request.user,  # type: ignore[arg-type]
                today=timezone.localdate(),
                planned_session=data["planned_session"],
                treatment=data["treatment"],
                areas=list(data["areas"]),
                earliest=data["earliest"],
                latest=data["latest"],
                practitioner=data["practitioner"],
                location=data["location"],
                anyway=data["add_anyway"],
            )
        except ValidationError as error:
            warnings = _add_errors(form, error, request.user)
        else:
            messages.success(request, f"{patient.full_name} is on the waitlist.")
            return redirect("patients:detail", pk=patient.pk)
    status = 400 if form.errors else 200
    context = {"patient": patient, "form": form, "warnings": warnings}
    return render(request, "treatments/waitlist/add.html", context, status=status)


def _add_errors(
    form: WaitlistForm, error: ValidationError, user: AbstractBaseUser | AnonymousUser
) -> list[str]:
    """Put the refusal on the form as this user may read it; returns the warnings that ask to
    confirm (a relative contraindication, a precaution), shown above "Add anyway"."""
    warnings: list[str] = []
    if hasattr(error, "error_dict"):
        confirm = error.error_dict.pop(waitlist.ANYWAY, [])
        if confirm:
            if sees_clinical_detail(user):
                warnings = [str(item.message) for item in confirm if item.code == CLINICAL]
            else:
                warnings = [ONLY_A_CLINICIAN_READS]
            for item in confirm:
                if item.code != CLINICAL:
                    form.add_error("add_anyway", item.message)
        if not error.error_dict:
            return warnings
    refusal_on_form(form, error, user)
    return warnings


@require_POST
@role_required(*STAFF)
def waitlist_remove(request: HttpRequest, entry_pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry, pk=entry_pk)
    try:
        waitlist.waitlist_remove(entry=entry, by=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{entry.patient.full_name} is off the waitlist.")
    return redirect(safe_next(request, reverse("treatments:waitlist")))


@require_GET
@role_required(*STAFF)
def waitlist_offers(request: HttpRequest) -> HttpResponse:
    """The waiting patients who fit a freed slot (a fragment the session panel loads)."""
    form = FreedSlotForm(request.GET)
    if not form.is_valid():
        return render(request, "treatments/waitlist/_offers.html", {"form": form}, status=400)
    data = form.cleaned_data
    slot = FreedSlot(data["practitioner"], data["location"].pk, data["start"], data["until"])
    context = {"offers": offers_for(slot), "slot": slot, "next": safe_next(request)}
    return render(request, "treatments/waitlist/_offers.html", context)


@require_POST
@role_required(*STAFF)
def waitlist_book(request: HttpRequest, entry_pk: int) -> HttpResponse:
    back = safe_next(request, reverse("treatments:waitlist"))
    form = WaitlistBookForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That slot could not be read: open the session again.")
        return redirect(back)
    try:
        session = waitlist.waitlist_book(
            entry_id=entry_pk,
            practitioner=form.cleaned_data["practitioner"],
            start=form.cleaned_data["start"],
            by=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        for message in disclosed_refusal(error, request.user).messages:
            messages.error(request, message)
    except (booking.Conflict, booking.CalendarBusy) as refusal:
        messages.error(request, refusal.detail)
    else:
        messages.success(request, f"Booked {session.patient.full_name} from the waitlist.")
        return redirect("treatments:session", pk=session.pk)
    return redirect(back)
