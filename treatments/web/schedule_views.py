"""Calendar pages and booking for the front desk and clinicians. Rules live in treatments.services.booking."""

from datetime import date, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.disclosure import disclosed_refusal, refusal_on_form
from clinic.http import requested_day, safe_next, url_for_pk
from clinic.roles import CLINICIAN, FRONT_DESK, has_role, role_required
from patients.access import get_patient
from patients.models import Patient
from treatments.engine import timeslots
from treatments.engine.calendar_grid import Placed, build_grid, week_days
from treatments.models import (
    Appointment,
    Closure,
    Device,
    Location,
    OpeningHours,
    Plan,
    PlannedSession,
    Practitioner,
    Room,
    TimeOff,
    WorkingHours,
)
from treatments.selectors.availability import SlotFinder, clinic_zone, day_bounds
from treatments.selectors.portal import booked_online
from treatments.selectors.previsit import needs_call
from treatments.selectors.session_context import blocked_on_its_day
from treatments.selectors.sessions import SessionLine, calendar_lines, practitioner_names
from treatments.selectors.waitlist import FreedSlot, offers_for
from treatments.services import booking
from treatments.web.schedule_forms import (
    PARTS_OF_DAY,
    SLOT_PARAMS,
    BookForm,
    CancelForm,
    MoveForm,
    SlotSearchForm,
    local_moment,
    posted_proposal,
    proposal_formset,
    slot_initial,
)

STAFF = (FRONT_DESK, CLINICIAN)
STEP = timedelta(minutes=15)
OPEN_PATIENT_FIRST = "Open the patient first, then book from their page."
ONLY_ACCEPTED_PLAN = "Only the current accepted plan can be booked."
SET_BY_THE_RECORD = "A session is started by its screening and completed by signing its record."


def _location(request):
    locations = list(Location.objects.filter(active=True))
    if not locations:
        raise Http404("No clinic location is set up yet.")
    wanted = request.GET.get("location")
    return next((loc for loc in locations if str(loc.pk) == wanted), locations[0]), locations


def _sessions(location, first_day, last_day):
    start, end = day_bounds(first_day, last_day)
    return (
        Appointment.objects.filter(location=location)
        .between(start, end)
        .with_calendar_joins()
        .annotate(needs_call=needs_call())
        .order_by("starts_at", "id")
    )


def _opening(location, day):
    """The location's opening windows on `day` (none on a closure), and the grid's bounds."""
    hours = sorted(
        OpeningHours.objects.filter(location=location, weekday=day.weekday()), key=lambda h: h.starts
    )
    opens = min((h.starts for h in hours), default=time(8))
    closes = max((h.ends for h in hours), default=time(18))
    bounds = timeslots.local_window(day, opens, closes, clinic_zone())
    if Closure.objects.filter(location=location, first_day__lte=day, last_day__gte=day).exists():
        return [], bounds
    return [timeslots.local_window(day, h.starts, h.ends, clinic_zone()) for h in hours], bounds


def _working(location, day, opening):
    """Each practitioner's bookable windows at `location` on `day`: their working hours inside the
    opening hours, less their time off."""
    zone = clinic_zone()
    working: dict[int, list] = {}
    for row in WorkingHours.objects.filter(location=location, weekday=day.weekday()).order_by("starts"):
        working.setdefault(row.practitioner_id, []).append(
            timeslots.local_window(day, row.starts, row.ends, zone)
        )
    start, end = day_bounds(day, day)
    off: dict[int, list] = {}
    for practitioner, off_from, off_until in (
        TimeOff.objects.filter(practitioner_id__in=list(working), starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at")
        .values_list("practitioner_id", "starts_at", "ends_at")
    ):
        off.setdefault(practitioner, []).append((off_from, off_until))
    return {
        practitioner: timeslots.subtract(timeslots.intersect(windows, opening), off.get(practitioner, []))
        for practitioner, windows in working.items()
    }


def _link_free_cells(rows, by, columns, now):
    """Give each empty cell its local day and time, and, when it is open and ahead of `now`, the
    booking page's query for it (ids only): the practitioner's column in that view; a room's
    column books by time. Clean-up cells are the session's, not empty."""
    book = reverse("treatments:book_session")
    names = {column.pk: str(column) for column in columns}
    for row in rows:
        for cell in row["cells"]:
            if cell["item"] is not None or "cleanup" in cell:
                continue
            at = timezone.localtime(cell["at"])
            cell.update(day=at.date().isoformat(), time=at.strftime("%H:%M"), label=names.get(cell["column"]))
            if cell["closed"] or cell["at"] <= now:
                continue
            query = {"day": cell["day"], "time": cell["time"]}
            if by == "practitioner":
                query = {"practitioner": cell["column"], **query}
            cell["book"] = f"{book}?{urlencode(query)}"


@require_http_methods(["GET"])
@role_required(*STAFF)
def calendar_day(request):
    day = requested_day(request)
    location, locations = _location(request)
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    sessions = list(_sessions(location, day, day))
    active = [s for s in sessions if s.is_active]
    opening, (start, end) = _opening(location, day)
    if by == "room":
        columns = list(Room.objects.filter(location=location, active=True))
        key = "room_id"
        open_hours = {room.pk: opening for room in columns}
    else:
        open_hours = _working(location, day, opening)
        booked = {s.practitioner_id for s in active}
        columns = list(
            Practitioner.objects.filter(
                Q(pk__in=list(open_hours), active=True) | Q(pk__in=booked)
            ).select_related("user")
        )
        key = "practitioner_id"
    start = min([start] + [s.starts_at for s in active])
    end = max([end] + [s.blocked_until for s in active])
    rows, overflow = build_grid(
        start,
        end,
        STEP,
        [c.pk for c in columns],
        [Placed(getattr(s, key), s.starts_at, s.blocked_until, s, work_end=s.ends_at) for s in active],
        open_hours=open_hours,
    )
    _link_free_cells(rows, by, columns, timezone.now())
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
            "session_url": url_for_pk("treatments:session"),
            "move_url": url_for_pk("treatments:session_move"),
            "overflow": overflow,
            "inactive": [s for s in sessions if not s.is_active],
        },
    )


@require_http_methods(["GET"])
@role_required(*STAFF)
def calendar_week(request):
    day = requested_day(request)
    location, locations = _location(request)
    days = week_days(day)
    practitioner = request.GET.get("practitioner", "")
    rows = calendar_lines(
        location,
        days[0],
        days[-1],
        names=practitioner_names(),
        url=url_for_pk("treatments:session"),
        practitioner=int(practitioner) if practitioner.isdigit() else None,
    )
    by_day: dict[date, list[SessionLine]] = {d: [] for d in days}
    for row in rows:
        by_day[row.day].append(row)
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


def _get_session(request, pk):
    session = get_object_or_404(
        Appointment.objects.with_panel_joins().annotate(
            needs_call=needs_call(), booked_online=booked_online()
        ),
        pk=pk,
    )
    get_patient(request, session.patient_id)
    return session


def _actions(session, user, now):
    is_clinician = has_role(user, CLINICIAN)
    labels = {
        Appointment.Status.CHECKED_IN: "Check in",
        Appointment.Status.BOOKED: (
            "Undo no-show" if session.status == Appointment.Status.NO_SHOW else "Undo check-in"
        ),
        Appointment.Status.NO_SHOW: "No-show",
    }
    return [
        (status, label)
        for status, label in labels.items()
        if session.transition_problem(status, is_clinician=is_clinician, now=now) is None
    ]


def _book_again_url(session):
    """The booking page searching free times for this session's treatment and areas, from today."""
    query = {
        "patient": session.patient_id,
        "treatment": session.treatment.slug,
        "areas": [area.slug for area in session.areas.all()],
        "day": timezone.localdate().isoformat(),
    }
    if session.planned_session_id:
        query["planned_session"] = session.planned_session_id
    return f"{reverse('treatments:book_session')}?{urlencode(query, doseq=True)}"


def _render_session(
    request,
    session,
    *,
    move_form=None,
    cancel_form=None,
    refused=None,
    refusal=(),
    next_slots=None,
    freed=None,
    status=200,
):
    """The session's panel. `refused` ("status", "move" or "cancel") names the refused action, so
    its reason shows where it was asked: `refusal` for a status, the form's errors for the others;
    `next_slots`, free times, when its time was taken. `freed`: the time a move gave back; a
    cancelled session ahead gives back its own. Waiting patients who fit it are offered."""
    now = timezone.now()
    if freed is None and session.status == Appointment.Status.CANCELLED and session.starts_at > now:
        freed = FreedSlot(session.practitioner, session.location_id, session.starts_at, session.blocked_until)
    is_clinician = has_role(request.user, CLINICIAN)
    context = {
        "session": session,
        # The patient's pre-visit answers stop it: call them. Never the reason (clinicians only).
        "needs_call": getattr(session, "needs_call", False),
        # Blocked on its day by what the history holds now: a clinician must look before the visit.
        "needs_review": session.status == Appointment.Status.BOOKED
        and session.starts_at > now
        and blocked_on_its_day(session),
        "actions": _actions(session, request.user, now),
        "movable": session.can_move,
        "cancellable": session.transition_problem(
            Appointment.Status.CANCELLED, is_clinician=is_clinician, now=now
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
        "refused": refused,
        "refusal": refusal,
        "next_slots": _slot_rows(next_slots) if next_slots else None,
        "book_again": _book_again_url(session) if next_slots and not session.can_move else None,
        "back": safe_next(request),
        "freed": freed,
        "offers": offers_for(freed, exclude_patient=session.patient_id) if freed is not None else None,
        "here": request.get_full_path()
        if not request.htmx
        else reverse("treatments:session", args=[session.pk]),
    }
    template = (
        "treatments/schedule/_session_panel.html" if request.htmx else "treatments/schedule/session.html"
    )
    return render(request, template, context, status=status)


@require_http_methods(["GET"])
@role_required(*STAFF)
def session_detail(request, pk):
    return _render_session(request, _get_session(request, pk))


def _done(request, session, message, freed=None):
    messages.success(request, message)
    if request.htmx:
        return _render_session(request, _get_session(request, session.pk), freed=freed)
    return redirect(safe_next(request, reverse("treatments:session", args=[session.pk])))


def _as_it_is_now(session):
    """The session re-read after a refused change: another desk may have changed it meanwhile."""
    return (
        Appointment.objects.with_panel_joins()
        .annotate(needs_call=needs_call(), booked_online=booked_online())
        .get(pk=session.pk)
    )


def _free_times_after(session, conflict, practitioner=None):
    """Free times for the session from the time refused, or from now once that has passed."""
    now = timezone.now()
    return booking.next_slots(
        session.treatment,
        start=max(conflict.start or now, now),
        practitioner=practitioner or session.practitioner,
        patient=session.patient_id,
        exclude=session.pk,
    )


@require_POST
@role_required(*STAFF)
def session_status(request, pk):
    session = _get_session(request, pk)
    wanted = request.POST.get("status", "")
    next_slots = None
    try:
        if wanted in Appointment.RECORD_DRIVEN:
            raise ValidationError(SET_BY_THE_RECORD)
        booking.session_status_change(appointment=session, status=wanted, by=request.user, now=timezone.now())
    except ValidationError as error:
        refusal, status = disclosed_refusal(error, request.user).messages, 400
    except booking.CalendarBusy as busy:
        refusal, status = [busy.detail], 409
    except booking.Conflict as conflict:
        refusal, status = [conflict.detail], 409
        next_slots = _free_times_after(session, conflict)
    else:
        return _done(request, session, f"{session.patient.full_name}: {wanted.replace('_', ' ')}.")
    return _render_session(
        request,
        _as_it_is_now(session),
        refused="status",
        refusal=refusal,
        next_slots=next_slots,
        status=status,
    )


@require_POST
@role_required(*STAFF)
def session_cancel(request, pk):
    session = _get_session(request, pk)
    form = CancelForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            booking.session_cancel(appointment=session, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            refusal_on_form(form, error, request.user)
        except booking.CalendarBusy as busy:
            form.add_error(None, busy.detail)
            status = 409
        else:
            return _done(request, session, "Session cancelled.")
        session = _as_it_is_now(session)
    return _render_session(request, session, cancel_form=form, refused="cancel", status=status)


@require_POST
@role_required(*STAFF)
def session_move(request, pk):
    session = _get_session(request, pk)
    form = MoveForm(request.POST)
    next_slots = None
    status = 400
    if form.is_valid():
        # What the session held before the move: given back, and offered to the waitlist.
        before = FreedSlot(
            session.practitioner, session.location_id, session.starts_at, session.blocked_until
        )
        try:
            moved = booking.session_move(
                appointment=session,
                start=form.start(),
                practitioner=form.cleaned_data["practitioner"],
                room=form.cleaned_data["room"],
                override_reason=form.cleaned_data["override_reason"],
                by=request.user,
            )
        except ValidationError as error:
            refusal_on_form(form, error, request.user)
        except booking.CalendarBusy as busy:
            form.add_error(None, busy.detail)
            status = 409
        except booking.Conflict as conflict:
            form.add_error(None, conflict.detail)
            next_slots = _free_times_after(session, conflict, form.cleaned_data["practitioner"])
        else:
            when = timezone.localtime(moved.starts_at)
            freed = before if before.start > timezone.now() else None
            return _done(request, moved, f"Session moved to {when:%a %b %d, %H:%M}.", freed=freed)
    return _render_session(
        request, session, move_form=form, refused="move", next_slots=next_slots, status=status
    )


def _slots_for(form, *, limit=12):
    data = form.cleaned_data
    finder = SlotFinder(data["treatment"], patient=data["patient"])
    first = max(data["day"], timezone.localdate())
    not_before = timezone.now()
    if data.get("time"):  # from a time on the day asked (an empty calendar cell's)
        not_before = max(not_before, local_moment(data["day"], data["time"]))
    return finder.find(
        first,
        first + timedelta(days=27),
        practitioner=data["practitioner"].pk if data["practitioner"] else None,
        limit=limit,
        not_before=not_before,
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


def _get_booking_patient(request):
    """(patient, planned session or None) named by the request, or None when no patient is."""
    source = request.POST if request.method == "POST" else request.GET
    patient_pk = source.get("patient", "")
    if not patient_pk.isdigit():
        return None
    patient = get_patient(request, patient_pk)
    planned = None
    if source.get("planned_session", "").isdigit():
        planned = get_object_or_404(
            PlannedSession.objects.select_related("plan", "treatment").exclude(
                plan__status=Plan.Status.AWAITING_CONSENT
            ),
            pk=source["planned_session"],
            plan__patient=patient,
        )
    return patient, planned


def _book_initial(patient, planned):
    initial = {"patient": patient.pk, "day": timezone.localdate()}
    if planned is not None:
        initial.update(
            treatment=planned.treatment.slug,
            areas=list(planned.areas.values_list("slug", flat=True)),
            day=max(planned.earliest, timezone.localdate()),
        )
    return initial


PATIENT_MATCHES = 20


def _patient_matches(query):
    """Patients (not archived) whose names hold every word of `query`; the query came by POST."""
    words = query.split()[:4]
    if not words:
        return None
    found = Patient.objects.filter(archived_at__isnull=True)
    for word in words:
        found = found.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return list(found.order_by("last_name", "first_name", "pk")[:PATIENT_MATCHES])


def _render_choose_patient(request, slot):
    """The step between an empty calendar cell and the booking form: find the patient by a
    posted name (never in the address), then book with the cell's slot prefilled."""
    source = request.POST if request.method == "POST" else request.GET
    query = source.get("q", "").strip()[:200] if request.method == "POST" else ""
    matches = _patient_matches(query)
    params = {name: source[name] for name in SLOT_PARAMS if source.get(name)}
    chosen_practitioner = (
        Practitioner.objects.select_related("user").filter(pk=slot["practitioner"]).first()
        if "practitioner" in slot
        else None
    )
    rows = [
        (patient, f"{reverse('treatments:book_session')}?{urlencode({'patient': patient.pk, **params})}")
        for patient in matches or ()
    ]
    return render(
        request,
        "treatments/schedule/book.html",
        {
            "patient": None,
            "slot": slot,
            "slot_practitioner": chosen_practitioner,
            "slot_params": params,
            "query": query,
            "matches": rows if matches is not None else None,
        },
    )


def _book_fields(data, planned):
    """The hidden fields a free time's Book button posts: the search as typed, so that a refused
    booking shows the form again with every value kept (the time from included)."""
    fields = [("patient", data["patient"].pk), ("treatment", data["treatment"].slug)]
    fields += [("areas", area.slug) for area in data["areas"]]
    fields.append(("day", data["day"].isoformat() if data.get("day") else ""))
    if data.get("time"):
        fields.append(("time", data["time"].strftime("%H:%M")))
    fields.append(("part_of_day", data.get("part_of_day") or ""))
    if data.get("practitioner"):
        fields.append(("practitioner", data["practitioner"].pk))
    if planned is not None:
        fields.append(("planned_session", planned.pk))
    return fields


NEXT_FREE = 5


def _next_free(data, patient, *, from_the_time):
    """Free times for the refused booking's practitioner and treatment: from the time refused
    when it was taken, else from the start of its day (a time outside the hours has none near)."""
    start = data["start"]
    if not from_the_time:
        start = day_bounds(timezone.localtime(start).date(), timezone.localtime(start).date())[0]
    found = booking.next_slots(
        data["treatment"],
        start=max(start, timezone.now()),
        practitioner=data["slot_practitioner"],
        patient=patient,
        limit=NEXT_FREE,
    )
    return _slot_rows(found)


def _render_book(request, patient, planned, search, *, refused=None, typed=None, next_free=None, status=400):
    """The search form and its free times; `refused`: the booking form that could not book, with
    the `status` to answer, `typed` its values as posted, and `next_free`, the free times offered
    right under its reason."""
    context = {"patient": patient, "planned": planned, "form": search}
    if refused is not None:
        context.update(
            book_errors=refused.errors,
            chosen_start=request.POST.get("start"),
            override_reason=request.POST.get("override_reason", ""),
            next_free=next_free,
        )
        if next_free and typed:
            context["book_fields"] = _book_fields(typed, planned)
    if search.is_bound and search.is_valid():
        context["slots"] = _slot_rows(_slots_for(search))
        context["book_fields"] = _book_fields(search.cleaned_data, planned)
    if refused is None and request.htmx and search.is_bound:
        return render(request, "treatments/schedule/_slots.html", context)
    return render(
        request, "treatments/schedule/book.html", context, status=200 if refused is None else status
    )


@require_http_methods(["GET", "POST"])
@role_required(*STAFF)
def book_session(request):
    found = _get_booking_patient(request)
    slot = slot_initial(request.POST if request.method == "POST" else request.GET)
    if found is None:
        if slot:  # from an empty calendar cell: choose the patient, keeping the slot
            return _render_choose_patient(request, slot)
        messages.info(request, OPEN_PATIENT_FIRST)
        return redirect("patients:list")
    patient, planned = found
    if request.method == "GET":
        bound = request.GET if "treatment" in request.GET else None
        initial = {**_book_initial(patient, planned), **slot}
        return _render_book(request, patient, planned, SlotSearchForm(bound, initial=initial))
    form = BookForm(request.POST)
    status = 400
    next_free = typed = None
    if form.is_valid():
        typed = dict(form.cleaned_data)  # an error on a field takes it out of cleaned_data
        try:
            session = booking.session_book(
                request=form.booking_request(patient=patient, planned=planned), by=request.user
            )
        except ValidationError as error:
            # The time was chosen from the list, not typed: its problems are the whole booking's.
            refusal_on_form(form, error, request.user, not_on=("start",))
            if "start" in getattr(error, "error_dict", {}):  # the time itself: offer others
                next_free = _next_free(typed, patient, from_the_time=False)
        except (booking.AlreadyBooked, booking.CalendarBusy) as refusal:
            form.add_error(None, refusal.detail)
            status = 409
        except booking.Conflict as conflict:
            form.add_error(None, f"{conflict.detail} Pick another time below.")
            next_free = _next_free(typed, patient, from_the_time=True)
        else:
            when = timezone.localtime(session.starts_at)
            messages.success(
                request,
                f"Booked {session.treatment.name} for {patient.full_name} on {when:%a %b %d at %H:%M}.",
            )
            return redirect(f"{reverse('treatments:calendar_day')}?date={when.date().isoformat()}")
    return _render_book(
        request,
        patient,
        planned,
        SlotSearchForm(request.POST),
        refused=form,
        typed=typed,
        next_free=next_free,
        status=status,
    )


def _proposal_rows(proposal, formset):
    slots = [slot for _, slot in proposal]
    rows = _slot_rows(slots)
    devices = dict(
        Device.objects.filter(pk__in={d for s in slots for d in s.devices}).values_list("pk", "name")
    )
    for row, (session, slot), form in zip(rows, proposal, formset, strict=True):
        row.update(session=session, devices=[devices.get(d, "") for d in slot.devices], form=form)
    return rows


def _get_plan_to_book(request, plan_pk):
    plan = get_object_or_404(Plan.objects.select_related("patient"), pk=plan_pk)
    get_patient(request, plan.patient_id)
    return plan


def _preferred_practitioner(chosen: str, patient: Patient) -> Practitioner | None:
    """The practitioner the desk chose (a Practitioner id), else the patient's preferred one (a User)."""
    found = Practitioner.objects.filter(pk=chosen).first() if chosen.isdigit() else None
    if found is None and patient.preferred_practitioner_id:
        found = Practitioner.objects.filter(user_id=patient.preferred_practitioner_id).first()
    return found


def _render_plan_book(request, plan, *, status=200):
    practitioner = _preferred_practitioner(request.GET.get("practitioner", ""), plan.patient)
    found = booking.plan_proposal(plan, practitioner=practitioner, not_before=timezone.now())
    proposal = found.placed
    formset = proposal_formset(proposal, [session for session, _ in proposal])
    booked = Appointment.objects.filter(plan=plan).with_calendar_joins().order_by("starts_at")
    return render(
        request,
        "treatments/schedule/plan_book.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "formset": formset,
            "rows": _proposal_rows(proposal, formset),
            "problem": found.problem,
            "unplaced": found.unplaced,
            "booked": booked,
            "practitioners": Practitioner.objects.filter(active=True).select_related("user"),
            "practitioner": practitioner,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(*STAFF)
def plan_book(request, plan_pk):
    plan = _get_plan_to_book(request, plan_pk)
    if plan.status != Plan.Status.ACCEPTED:
        messages.error(request, ONLY_ACCEPTED_PLAN)
        return redirect("treatments:plan_detail", plan_pk=plan.pk)
    if request.method == "GET":
        return _render_plan_book(request, plan)
    formset = posted_proposal(request.POST, booking.plan_sessions_to_book(plan))
    status = 400
    if not formset.is_valid():
        for message in formset.problems():
            messages.error(request, message)
    else:
        try:
            booked = booking.plan_book(plan=plan, choices=formset.proposal(), by=request.user)
        except ValidationError as error:
            for message in disclosed_refusal(error, request.user).messages:
                messages.error(request, message)
        except (booking.Conflict, booking.AlreadyBooked, booking.CalendarBusy) as refusal:
            messages.error(request, f"{refusal.detail} Nothing was booked; here is a new proposal.")
            status = 409
        else:
            messages.success(request, f"Booked {len(booked)} sessions for {plan.patient.full_name}.")
            return redirect("patients:detail", pk=plan.patient_id)
    return _render_plan_book(request, plan, status=status)
