"""Calendar pages and booking for the front desk and clinicians. Rules live in treatments.services.booking."""

from datetime import time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from clinic.roles import CLINICIAN, FRONT_DESK, has_role, role_required
from patients.access import get_patient
from patients.models import BodyArea
from treatments.engine import booking_rules, timeslots
from treatments.engine.calendar_grid import Placed, build_grid, week_days
from treatments.models import (
    Appointment,
    Device,
    Location,
    OpeningHours,
    Plan,
    PlannedSession,
    Practitioner,
    Room,
    WorkingHours,
)
from treatments.selectors.availability import SlotFinder, clinic_zone, day_bounds
from treatments.services import booking
from treatments.web.schedule_forms import PARTS_OF_DAY, BookForm, CancelForm, MoveForm, SlotSearchForm

STAFF = (FRONT_DESK, CLINICIAN)
STEP = timedelta(minutes=15)


def _day_param(request):
    try:
        return parse_date(request.GET.get("date", "")) or timezone.localdate()
    except ValueError:  # well formed but impossible, e.g. 2027-13-45
        return timezone.localdate()


def _location(request):
    locations = list(Location.objects.filter(active=True))
    if not locations:
        raise Http404("No clinic location is set up yet.")
    wanted = request.GET.get("location")
    return next((loc for loc in locations if str(loc.pk) == wanted), locations[0]), locations


def _sessions(location, first_day, last_day):
    start, end = day_bounds(first_day, last_day)
    return (
        Appointment.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "treatment", "practitioner__user", "room")
        .order_by("starts_at", "id")
    )


def _grid_bounds(location, day):
    hours = list(OpeningHours.objects.filter(location=location, weekday=day.weekday()))
    opens = min((h.starts for h in hours), default=time(8))
    closes = max((h.ends for h in hours), default=time(18))
    return timeslots.local_window(day, opens, closes, clinic_zone())


@require_http_methods(["GET"])
@role_required(*STAFF)
def calendar_day(request):
    day = _day_param(request)
    location, locations = _location(request)
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    sessions = list(_sessions(location, day, day))
    active = [s for s in sessions if s.status in Appointment.ACTIVE]
    if by == "room":
        columns = list(Room.objects.filter(location=location, active=True))
        key = "room_id"
    else:
        working = WorkingHours.objects.filter(location=location, weekday=day.weekday()).values(
            "practitioner_id"
        )
        booked = {s.practitioner_id for s in active}
        columns = list(
            Practitioner.objects.filter(Q(pk__in=working, active=True) | Q(pk__in=booked)).select_related(
                "user"
            )
        )
        key = "practitioner_id"
    start, end = _grid_bounds(location, day)
    start = min([start] + [s.starts_at for s in active])
    end = max([end] + [s.blocked_until for s in active])
    rows, overflow = build_grid(
        start,
        end,
        STEP,
        [c.pk for c in columns],
        [Placed(getattr(s, key), s.starts_at, s.blocked_until, s) for s in active],
    )
    return render(
        request,
        "treatments/schedule/day.html",
        {
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "location": location,
            "locations": locations,
            "by": by,
            "columns": columns,
            "rows": rows,
            "overflow": overflow,
            "inactive": [s for s in sessions if s.status not in Appointment.ACTIVE],
        },
    )


@require_http_methods(["GET"])
@role_required(*STAFF)
def calendar_week(request):
    day = _day_param(request)
    location, locations = _location(request)
    days = week_days(day)
    sessions = _sessions(location, days[0], days[-1]).exclude(status=Appointment.Status.CANCELLED)
    practitioner = request.GET.get("practitioner", "")
    if practitioner.isdigit():
        sessions = sessions.filter(practitioner_id=practitioner)
    by_day = {d: [] for d in days}
    for session in sessions:
        by_day[timezone.localtime(session.starts_at).date()].append(session)
    return render(
        request,
        "treatments/schedule/week.html",
        {
            "day": day,
            "days": [(d, by_day[d]) for d in days],
            "previous": days[0] - timedelta(days=7),
            "next": days[0] + timedelta(days=7),
            "location": location,
            "locations": locations,
            "practitioners": Practitioner.objects.filter(active=True).select_related("user"),
            "practitioner": practitioner,
        },
    )


# Statuses only the clinical record sets: screening starts a session, signing completes it.
RECORD_DRIVEN = {"in_progress", "completed"}


def _get_session(request, pk):
    session = get_object_or_404(
        Appointment.objects.select_related(
            "patient",
            "treatment",
            "practitioner__user",
            "room",
            "location",
            "plan",
            "cancelled_by",
            "planned_session",
        ).prefetch_related("areas", "devices"),
        pk=pk,
    )
    get_patient(request, session.patient_id)
    return session


def _actions(session, user):
    is_clinician = has_role(user, CLINICIAN)
    labels = {
        "checked_in": "Check in",
        "booked": "Undo check-in",
        "no_show": "No-show",
    }
    return [
        (status, label)
        for status, label in labels.items()
        if booking_rules.transition_problem(session.status, status, is_clinician=is_clinician) is None
    ]


def _render_session(request, session, *, move_form=None, cancel_form=None, next_slots=None, status=200):
    context = {
        "session": session,
        "actions": _actions(session, request.user),
        "movable": session.status in booking_rules.MOVABLE,
        "cancellable": booking_rules.transition_problem(
            session.status, "cancelled", is_clinician=has_role(request.user, CLINICIAN)
        )
        is None,
        "move_form": move_form
        or MoveForm(
            initial={
                "day": timezone.localtime(session.starts_at).date(),
                "time": timezone.localtime(session.starts_at).time(),
            }
        ),
        "cancel_form": cancel_form or CancelForm(),
        "next_slots": next_slots,
        "back": request.GET.get("next") or request.POST.get("next") or "",
    }
    template = (
        "treatments/schedule/_session_panel.html" if request.htmx else "treatments/schedule/session.html"
    )
    return render(request, template, context, status=status)


@require_http_methods(["GET"])
@role_required(*STAFF)
def session_detail(request, pk):
    return _render_session(request, _get_session(request, pk))


def _done(request, session, message):
    messages.success(request, message)
    if request.htmx:
        return _render_session(request, _get_session(request, session.pk))
    target = request.POST.get("next") or reverse("treatments:session", args=[session.pk])
    return redirect(target if target.startswith("/") else reverse("treatments:session", args=[session.pk]))


@require_POST
@role_required(*STAFF)
def session_status(request, pk):
    session = _get_session(request, pk)
    wanted = request.POST.get("status", "")
    try:
        if wanted in RECORD_DRIVEN:
            raise ValidationError(
                "A session is started by its screening and completed by signing its record."
            )
        booking.change_status(session, status=wanted, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render_session(request, session, status=400)
    return _done(request, session, f"{session.patient.full_name}: {wanted.replace('_', ' ')}.")


@require_POST
@role_required(*STAFF)
def session_cancel(request, pk):
    session = _get_session(request, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            booking.cancel(session, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            return _done(request, session, "Session cancelled.")
    return _render_session(request, session, cancel_form=form, status=400)


@require_POST
@role_required(*STAFF)
def session_move(request, pk):
    session = _get_session(request, pk)
    form = MoveForm(request.POST)
    next_slots = None
    if form.is_valid():
        try:
            moved = booking.move(
                session,
                start=form.start(),
                practitioner=form.cleaned_data["practitioner"],
                override_reason=form.cleaned_data["override_reason"],
                by=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except booking.Conflict as conflict:
            form.add_error(None, conflict.detail)
            next_slots = booking.next_slots(
                session.treatment,
                start=conflict.start,
                practitioner=form.cleaned_data["practitioner"] or session.practitioner,
                patient=session.patient_id,
                exclude=session.pk,
            )
        else:
            when = timezone.localtime(moved.starts_at)
            return _done(request, moved, f"Session moved to {when:%a %b %d, %H:%M}.")
    return _render_session(request, session, move_form=form, next_slots=next_slots, status=400)


def _slots_for(form, *, limit=12):
    data = form.cleaned_data
    finder = SlotFinder(data["treatment"], patient=data["patient"])
    first = max(data["day"], timezone.localdate())
    return finder.find(
        first,
        first + timedelta(days=27),
        practitioner=data["practitioner"].pk if data["practitioner"] else None,
        limit=limit,
        not_before=timezone.now(),
        hours=PARTS_OF_DAY.get(data.get("part_of_day") or ""),
    )


def _slot_rows(slots):
    practitioners = {
        p.pk: p
        for p in Practitioner.objects.filter(pk__in={s.practitioner for s in slots}).select_related("user")
    }
    rooms = dict(Room.objects.filter(pk__in={s.room for s in slots if s.room}).values_list("pk", "name"))
    return [
        {"slot": s, "practitioner": practitioners.get(s.practitioner), "room": rooms.get(s.room)}
        for s in slots
    ]


@require_http_methods(["GET", "POST"])
@role_required(*STAFF)
def book_session(request):
    source = request.POST if request.method == "POST" else request.GET
    patient_pk = source.get("patient", "")
    if not patient_pk.isdigit():
        messages.info(request, "Open the patient first, then book from their page.")
        return redirect("patients:list")
    patient = get_patient(request, patient_pk)
    planned = None
    if source.get("planned_session", "").isdigit():
        planned = get_object_or_404(
            PlannedSession.objects.select_related("plan", "treatment"),
            pk=source["planned_session"],
            plan__patient=patient,
        )
    initial = {"patient": patient.pk, "day": timezone.localdate()}
    if planned is not None:
        initial.update(
            treatment=planned.treatment.slug,
            areas=list(planned.areas.values_list("slug", flat=True)),
            day=max(planned.earliest, timezone.localdate()),
        )
    context = {"patient": patient, "planned": planned}
    if request.method == "POST":
        form = BookForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            request_ = booking.BookingRequest(
                patient=patient,
                treatment=data["treatment"],
                areas=list(data["areas"]),
                practitioner=data["slot_practitioner"],
                start=data["start"],
                plan=planned.plan if planned else None,
                planned_session=planned,
                override_reason=data["override_reason"],
            )
            try:
                session = booking.book(request_, by=request.user)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields and field != "start" else None, errors)
            except booking.Conflict as conflict:
                form.add_error(None, f"{conflict.detail} Pick another time below.")
            else:
                when = timezone.localtime(session.starts_at)
                messages.success(
                    request,
                    f"Booked {session.treatment.name} for {patient.full_name} on {when:%a %b %d at %H:%M}.",
                )
                return redirect(f"{reverse('treatments:calendar_day')}?date={when.date().isoformat()}")
        search = SlotSearchForm(request.POST)
        context.update(form=search, book_errors=form.errors, chosen_start=request.POST.get("start"))
        if search.is_valid():
            context["slots"] = _slot_rows(_slots_for(search))
        return render(request, "treatments/schedule/book.html", context, status=400)
    form = SlotSearchForm(request.GET if "treatment" in request.GET else None, initial=initial)
    context["form"] = form
    if form.is_bound and form.is_valid():
        context["slots"] = _slot_rows(_slots_for(form))
    if request.htmx and form.is_bound:
        return render(request, "treatments/schedule/_slots.html", context)
    return render(request, "treatments/schedule/book.html", context)


def _proposal_rows(proposal):
    slots = [slot for _, slot in proposal]
    rows = _slot_rows(slots)
    devices = dict(
        Device.objects.filter(pk__in={d for s in slots for d in s.devices}).values_list("pk", "name")
    )
    for row, (session, slot) in zip(rows, proposal, strict=True):
        row["session"] = session
        row["devices"] = [devices.get(d, "") for d in slot.devices]
    return rows


def _posted_proposal(request, plan):
    """The (planned session, slot) pairs the desk saw and confirmed."""
    sessions = {s.pk: s for s in booking.plan_sessions_to_book(plan)}
    chosen = []
    for key in request.POST.getlist("session"):
        session = sessions.get(int(key)) if key.isdigit() else None
        try:
            start = parse_datetime(request.POST.get(f"start-{key}", ""))
        except ValueError:
            start = None
        practitioner = request.POST.get(f"practitioner-{key}", "")
        if session is None or start is None or not practitioner.isdigit():
            raise ValidationError("The proposal is out of date: look at the new one and confirm again.")
        room = request.POST.get(f"room-{key}", "")
        devices = tuple(int(d) for d in request.POST.get(f"devices-{key}", "").split(",") if d.isdigit())
        chosen.append(
            (
                session,
                timeslots.Slot(
                    start, start, int(practitioner), int(room) if room.isdigit() else None, devices
                ),
            )
        )
    if not chosen:
        raise ValidationError("Nothing left to book in this plan.")
    return chosen


@require_http_methods(["GET", "POST"])
@role_required(*STAFF)
def plan_book(request, plan_pk):
    plan = get_object_or_404(Plan.objects.select_related("patient"), pk=plan_pk)
    get_patient(request, plan.patient_id)
    if plan.status != Plan.Status.ACCEPTED:
        messages.error(request, "Only the current accepted plan can be booked.")
        return redirect("treatments:plan_detail", plan_pk=plan.pk)
    status = 200
    if request.method == "POST":
        try:
            booked = booking.book_plan(plan, _posted_proposal(request, plan), by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            status = 400
        except booking.Conflict as conflict:
            messages.error(request, f"{conflict.detail} Nothing was booked; here is a new proposal.")
            status = 409
        else:
            messages.success(request, f"Booked {len(booked)} sessions for {plan.patient.full_name}.")
            return redirect("patients:detail", pk=plan.patient_id)
    preferred = request.GET.get("practitioner") or plan.patient.preferred_practitioner_id
    practitioner = (
        Practitioner.objects.filter(pk=preferred).first() if str(preferred or "").isdigit() else None
    )
    if practitioner is None and plan.patient.preferred_practitioner_id:
        practitioner = Practitioner.objects.filter(user_id=plan.patient.preferred_practitioner_id).first()
    proposal, problem = booking.propose_plan(plan, practitioner=practitioner, not_before=timezone.now())
    booked = (
        Appointment.objects.filter(plan=plan)
        .select_related("treatment", "practitioner__user")
        .prefetch_related(Prefetch("areas", queryset=BodyArea.objects.only("name")))
        .order_by("starts_at")
    )
    return render(
        request,
        "treatments/schedule/plan_book.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "rows": _proposal_rows(proposal),
            "problem": problem,
            "booked": booked,
            "practitioners": Practitioner.objects.filter(active=True).select_related("user"),
            "practitioner": practitioner,
        },
        status=status,
    )


def patient_sessions(patient):
    """Upcoming and past sessions of a patient, for the patient page."""
    now = timezone.now()
    sessions = list(
        patient.appointments.select_related("treatment", "practitioner__user", "room").order_by("-starts_at")[
            :50
        ]
    )
    upcoming = sorted((s for s in sessions if s.starts_at >= now), key=lambda s: s.starts_at)
    return upcoming, [s for s in sessions if s.starts_at < now]
