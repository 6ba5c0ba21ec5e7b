"""The patient portal's pages that show a patient their plan and sessions, and book, move and
cancel the visits of their plan (docs/portal.md).

They live in the project layer because they compose both apps, as the staff patient page does:
the signed-in patient comes from `patients`, the plans and sessions from `treatments`.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import portal_consent, portal_intake, portal_previsit
from clinic.access_log import note_patient_access
from clinic.disclosure import CLINICAL
from patients import portal_urls
from patients.portal_views import current_account, patient_required
from treatments.models import Appointment, Practitioner
from treatments.selectors.booking_facts import local_day
from treatments.selectors.portal import (
    day_label,
    last_aftercare,
    portal_plans,
    portal_session,
    portal_sessions,
)
from treatments.selectors.portal_booking import (
    BookableVisit,
    DayRefusal,
    FreeTime,
    VisitWindow,
    bookable_visit,
    plan_session,
    visit_times,
    with_booking_windows,
)
from treatments.selectors.session_versions import session_version
from treatments.services import booking, waitlist


@patient_required()
@require_GET
def portal_home(request: HttpRequest) -> HttpResponse:
    patient = current_account(request).patient
    note_patient_access(request, patient.pk)
    now = timezone.now()
    upcoming, past = portal_sessions(patient.pk, now=now)
    context = {
        **portal_previsit.home_context(patient.pk, now),
        **portal_consent.home_context(patient.pk, now),
        **portal_intake.home_context(patient.pk, now),
        "first_name": patient.first_name,
        "plans": with_booking_windows(portal_plans(patient.pk), patient.pk, today=local_day(now)),
        "upcoming": upcoming,
        "past": past,
        "last_aftercare": last_aftercare(patient.pk),
        "notice_hours": settings.PORTAL_CANCEL_NOTICE_HOURS,
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


# What a patient reads when a booking is refused: never the clinical reason (clinic/disclosure.py
# keeps it from non-clinicians), nor the staff's words about practitioners, rooms or overrides.
CLINIC_MUST_CHECK = (
    "The clinic needs to check something with you before this visit can be booked on that date. "
    "Please call the clinic."
)
NOT_BOOKABLE = "That time cannot be booked online. Please choose another time, or call the clinic."
TIME_TAKEN = "That time has just been taken. Please choose another time."
CALENDAR_BUSY = "The booking system is busy. Please try again in a moment."
SESSION_CHANGED = "This session has changed meanwhile. Please look at it again."
TIME_PASSED = "That time has passed. Please choose another time."
NO_TIME = "Please choose one of the free times."
OUTSIDE_WINDOW = "{day} is outside this visit's dates. {window}"
DAY_REFUSED = "This visit cannot be booked on {day}. {why}"
EVERY_DAY_REFUSED = "This visit cannot be booked online on any of its dates. {why}"
CHECK_FIRST = "The clinic needs to check something with you first. Please call the clinic."
CHECK_FIRST_OR_ANOTHER = "The clinic needs to check something with you before that day. Please choose another day or call the clinic."
WINDOW_PASSED = (
    "The dates for visit {number} have passed, so it cannot be booked online. Please call the clinic."
)
BOOK_FIRST = "Please book visit {number} first."
NO_FREE_TIME = "No time is free for this visit between those dates."
ALREADY_BOOKED = "This visit is booked already."
NOT_CHANGEABLE = "This session can no longer be changed online. Please call the clinic."
TOO_LATE = "Sessions can be {action} online until {hours} hours before; please call the clinic."
CANCEL_REASON = "Cancelled by the patient online"
BOOKED = "Visit {number} is booked: {when}."
MOVED = "Your session is now on {when}."
CANCELLED = "Your session on {when} is cancelled."
ON_WAITLIST = "You are on the waitlist for visit {number}. The clinic will contact you if a time frees up."
ALREADY_WAITING = "You are already on the waitlist for this visit."
WAITLIST_REFUSED = "This visit cannot join the waitlist online. Please call the clinic."


def _when(start: datetime) -> str:
    local = timezone.localtime(start)
    return f"{day_label(local.date())} at {local:%H:%M}"


def window_sentence(number: int, window: VisitWindow) -> str:
    """e.g. "Visit 2 can be booked between Mon 4 Jan and Mon 18 Jan 2027." """
    if window.first == window.last:
        return f"Visit {number} can be booked on {day_label(window.first)}."
    first = day_label(window.first, year=window.first.year != window.last.year)
    return f"Visit {number} can be booked between {first} and {day_label(window.last)}."


class DayForm(forms.Form):
    day = forms.DateField(required=False, label="Day")


class TimeForm(forms.Form):
    """A free time as its button posts it: "<ISO start>@<practitioner id>"."""

    slot = forms.CharField(max_length=80)
    version = forms.CharField(max_length=40, required=False)

    def clean_slot(self) -> tuple[datetime, int]:
        start, _, practitioner = self.cleaned_data["slot"].partition("@")
        try:
            moment = datetime.fromisoformat(start)
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            timezone.localtime(moment)  # a year at the edge of the calendar overflows here, not later
            chosen = int(practitioner)
        except (ValueError, OverflowError):
            raise ValidationError(NO_TIME) from None
        return moment, chosen


def _refusal_words(refusal: Exception) -> tuple[str, int]:
    """(what the patient reads, status) for a refusal of the booking services."""
    if isinstance(refusal, booking.StaleSession):
        return SESSION_CHANGED, 409
    if isinstance(refusal, booking.CalendarBusy):
        return CALENDAR_BUSY, 409
    if isinstance(refusal, booking.Conflict):
        return TIME_TAKEN, 409
    if isinstance(refusal, ValidationError):
        errors = (
            [item for items in refusal.error_dict.values() for item in items]
            if hasattr(refusal, "error_dict")
            else refusal.error_list
        )
        if any(error.code == CLINICAL for error in errors):
            return CLINIC_MUST_CHECK, 400
    return NOT_BOOKABLE, 400


REFUSALS = (ValidationError, booking.Conflict, booking.StaleSession, booking.CalendarBusy)


def _blocked(visit: BookableVisit) -> str:
    """Why nothing of this visit can be booked online now, or ""."""
    if visit.window is None:
        return WINDOW_PASSED.format(number=visit.number)
    if visit.book_first is not None:
        return BOOK_FIRST.format(number=visit.book_first)
    return ""


def _unchangeable(session: Appointment, now: datetime, *, action: str) -> str:
    """Why the patient cannot move or cancel this session online, or "": only a booked future
    session, and only up to the clinic's notice before it."""
    if session.status != Appointment.Status.BOOKED or session.starts_at <= now:
        return NOT_CHANGEABLE
    if session.starts_at - now < timedelta(hours=settings.PORTAL_CANCEL_NOTICE_HOURS):
        return TOO_LATE.format(action=action, hours=settings.PORTAL_CANCEL_NOTICE_HOURS)
    return ""


def _chosen_time(
    request: HttpRequest, visit: BookableVisit, now: datetime
) -> tuple[tuple[datetime, Practitioner] | None, str, date | None]:
    """(the posted time and practitioner, or None; the refusal; the day to show) before any service
    is asked: the window is the portal's rule, not the desk's."""
    form = TimeForm(request.POST)
    if not form.is_valid():
        return None, NO_TIME, None
    start, practitioner_pk = form.cleaned_data["slot"]
    day = local_day(start)
    window = visit.window
    if window is None:
        return None, _blocked(visit), None
    if not window.holds(day):
        return (
            None,
            OUTSIDE_WINDOW.format(day=day_label(day), window=window_sentence(visit.number, window)),
            None,
        )
    if start <= now:
        return None, TIME_PASSED, day
    practitioner = Practitioner.objects.select_related("user").filter(pk=practitioner_pk, active=True).first()
    if practitioner is None:
        return None, NOT_BOOKABLE, day
    return (start, practitioner), "", day


def _visit_page(
    request: HttpRequest,
    visit: BookableVisit,
    *,
    now: datetime,
    day: date | None,
    moving: Appointment | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    blocked = _blocked(visit)
    window = visit.window
    if window is not None and day is not None and not window.holds(day) and not problem:
        problem = OUTSIDE_WINDOW.format(day=day_label(day), window=window_sentence(visit.number, window))
    times = (
        visit_times(visit, day=day, now=now, exclude=moving.pk if moving else None)
        if not blocked and window is not None
        else None
    )
    shown_day = times.day if times and times.day and window and window.holds(times.day) else None
    every_day_refused = times is not None and times.refusal is not None and times.first_free_day is None
    if times is not None and times.refusal is not None and shown_day is not None and not problem:
        problem = _day_refused(times.refusal, shown_day, every_day=every_day_refused)
    context = {
        "visit": visit,
        "moving": moving,
        "moving_when": _when(moving.starts_at) if moving else "",
        "version": session_version(moving) if moving else "",
        "window_sentence": window_sentence(visit.number, window) if window else "",
        "blocked": blocked,
        "problem": problem,
        "day_form": DayForm(initial={"day": shown_day or day}),
        "day": shown_day,
        "times": [_time_button(t) for t in times.times] if times else [],
        # The waitlist would not help a window whose every day is refused, and not a clinical refusal.
        "nothing_free": times is not None and times.first_free_day is None and times.refusal is None,
        "first_free_day": times.first_free_day if times and times.first_free_day != shown_day else None,
        # Nothing to choose: the message says to call; no day picker, no empty list of times.
        "every_day_refused": every_day_refused,
        "no_free_time": NO_FREE_TIME,
    }
    return render(request, "portal/book.html", context, status=status)


def _day_refused(refusal: DayRefusal, day: date, *, every_day: bool) -> str:
    """Why the shown day, or every day of the window, is refused whatever the time."""
    if every_day:
        return EVERY_DAY_REFUSED.format(why=CHECK_FIRST if refusal.clinical else refusal.message)
    return DAY_REFUSED.format(
        day=day_label(day), why=CHECK_FIRST_OR_ANOTHER if refusal.clinical else refusal.message
    )


def _time_button(free: FreeTime) -> tuple[datetime, str]:
    """(the local start shown, the value posted): the clinic's local time, as the patient reads it."""
    local = timezone.localtime(free.start)
    return local, f"{local.isoformat()}@{free.practitioner}"


def _requested_day(request: HttpRequest) -> tuple[date | None, str]:
    form = DayForm(request.GET)
    if not form.is_valid():
        return None, "Please give a day as a date."
    day: date | None = form.cleaned_data["day"]
    return day, ""


def _choose_time(
    request: HttpRequest,
    visit: BookableVisit,
    *,
    now: datetime,
    moving: Appointment | None,
    act: Callable[[datetime, Practitioner], str],
) -> HttpResponse:
    """The free-times page of a visit and the POST of one of its times, for booking and moving
    alike: the portal's own rules first (window, order, the past), then `act` asks the booking
    service and returns what the patient reads on success."""
    if request.method == "GET":
        day, problem = _requested_day(request)
        return _visit_page(request, visit, now=now, day=day, moving=moving, problem=problem)
    if _blocked(visit):
        return _visit_page(request, visit, now=now, day=None, moving=moving, status=400)
    chosen, problem, day = _chosen_time(request, visit, now)
    if chosen is None:
        return _visit_page(request, visit, now=now, day=day, moving=moving, problem=problem, status=400)
    try:
        done = act(*chosen)
    except REFUSALS as refusal:
        words, status = _refusal_words(refusal)
        return _visit_page(request, visit, now=now, day=day, moving=moving, problem=words, status=status)
    messages.success(request, done)
    return redirect("portal:home")


@patient_required(others_get_404=True)
@require_http_methods(["GET", "POST"])
def portal_visit_book(request: HttpRequest, pk: int) -> HttpResponse:
    patient = current_account(request).patient
    visit = bookable_visit(patient.pk, pk, today=timezone.localdate())
    if visit is None:
        raise Http404
    if visit.booked is not None:
        messages.info(request, ALREADY_BOOKED)
        return redirect("portal:home")
    if request.method == "GET":
        note_patient_access(request, patient.pk)
    planned = visit.planned

    def book(start: datetime, practitioner: Practitioner) -> str:
        try:
            session = booking.session_book(
                request=booking.BookingRequest(
                    patient=planned.plan.patient,
                    treatment=planned.treatment,
                    areas=list(planned.areas.all()),
                    practitioner=practitioner,
                    start=start,
                    plan=planned.plan,
                    planned_session=planned,
                ),
                by=current_account(request).user,
            )
        except booking.AlreadyBooked as repeated:
            # A second tap of the same button: the first one booked it.
            session = repeated.session
        return BOOKED.format(number=visit.number, when=_when(session.starts_at))

    return _choose_time(request, visit, now=timezone.now(), moving=None, act=book)


@patient_required(others_get_404=True)
@require_http_methods(["GET", "POST"])
def portal_session_move(request: HttpRequest, pk: int) -> HttpResponse:
    patient = current_account(request).patient
    now = timezone.now()
    session = plan_session(patient.pk, pk)
    if session is None or session.planned_session_id is None:
        raise Http404
    visit = bookable_visit(
        patient.pk, session.planned_session_id, today=timezone.localdate(), moving=session.pk
    )
    if visit is None:
        raise Http404
    if request.method == "GET":
        note_patient_access(request, patient.pk)
    refused = _unchangeable(session, now, action="moved")
    if refused:
        status = 200 if request.method == "GET" else 400
        return render(
            request, "portal/refused.html", {"title": "Change the time", "problem": refused}, status=status
        )

    def move(start: datetime, practitioner: Practitioner) -> str:
        moved = booking.session_move(
            appointment=session,
            start=start,
            by=current_account(request).user,
            practitioner=practitioner,
            expected_version=request.POST.get("version") or None,
        )
        return MOVED.format(when=_when(moved.starts_at))

    return _choose_time(request, visit, now=now, moving=session, act=move)


@patient_required(others_get_404=True)
@require_http_methods(["GET", "POST"])
def portal_session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    patient = current_account(request).patient
    now = timezone.now()
    session = plan_session(patient.pk, pk)
    if session is None:
        raise Http404
    if request.method == "GET":
        note_patient_access(request, patient.pk)
    problem = _unchangeable(session, now, action="cancelled")
    if not problem and request.method == "POST":
        try:
            booking.session_cancel(
                appointment=session,
                reason=CANCEL_REASON,
                by=current_account(request).user,
                expected_version=request.POST.get("version") or None,
            )
        except REFUSALS as refusal:
            problem, _ = _refusal_words(refusal)
        else:
            messages.success(request, CANCELLED.format(when=_when(session.starts_at)))
            return redirect("portal:home")
    context = {
        "session": session,
        "when": _when(session.starts_at),
        "version": session_version(session),
        "problem": problem,
    }
    return render(
        request, "portal/cancel.html", context, status=400 if problem and request.method == "POST" else 200
    )


@patient_required(others_get_404=True)
@require_POST
def portal_visit_waitlist(request: HttpRequest, pk: int) -> HttpResponse:
    patient = current_account(request).patient
    visit = bookable_visit(patient.pk, pk, today=timezone.localdate())
    if visit is None:
        raise Http404
    window = visit.window
    try:
        waitlist.waitlist_add(
            patient=visit.planned.plan.patient,
            by=current_account(request).user,
            today=timezone.localdate(),
            planned_session=visit.planned,
            # The window the page showed, which follows the series as booked; None: it has passed.
            earliest=window.first if window else None,
            latest=window.last if window else None,
        )
    except ValidationError as refusal:
        words, _ = _refusal_words(refusal)
        if words != CLINIC_MUST_CHECK:
            words = ALREADY_WAITING if waitlist.ALREADY_WAITING in refusal.messages else WAITLIST_REFUSED
        messages.error(request, words)
    else:
        messages.success(request, ON_WAITLIST.format(number=visit.number))
    return redirect("portal:visit_book", pk=pk)


app_name = portal_urls.app_name
urlpatterns = [
    *portal_urls.urlpatterns,
    path("home/", portal_home, name="home"),
    path("sessions/<int:pk>/", portal_session_detail, name="session"),
    path("visits/<int:pk>/book/", portal_visit_book, name="visit_book"),
    path("visits/<int:pk>/waitlist/", portal_visit_waitlist, name="visit_waitlist"),
    path("sessions/<int:pk>/move/", portal_session_move, name="session_move"),
    path("sessions/<int:pk>/cancel/", portal_session_cancel, name="session_cancel"),
    *portal_previsit.urlpatterns,
    *portal_consent.urlpatterns,
    *portal_intake.urlpatterns,
]
