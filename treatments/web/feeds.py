"""A practitioner's sessions as an iCalendar feed, at a secret-token URL a calendar app can poll.

Calendar apps cannot log in, so the token is the credential; the feed names patients by
initials only.
"""

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from treatments.models import Appointment, Practitioner

PAST_DAYS, FUTURE_DAYS = 30, 180


def initials(first_name, last_name):
    return "".join(f"{part[0].upper()}." for part in (first_name, last_name) if part)


def feed_calendar(practitioner, sessions, *, domain):
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic planner//sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Sessions: {practitioner}")
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.pk}@{domain}")
        event.add("dtstamp", session.booked_at)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        who = initials(session.patient.first_name, session.patient.last_name)
        event.add("summary", f"{session.treatment.name} · {who}")
        where = session.location.name + (f", {session.room.name}" if session.room else "")
        event.add("location", where)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar


@login_not_required
@require_GET
def practitioner_feed(request, token):
    practitioner = get_object_or_404(
        Practitioner.objects.select_related("user"), feed_token=token, active=True
    )
    now = timezone.now()
    sessions = (
        Appointment.objects.filter(practitioner=practitioner)
        .active()
        .between(now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS))
        .select_related("patient", "treatment", "location", "room")
        .only(
            "pk",
            "booked_at",
            "starts_at",
            "ends_at",
            "patient__first_name",
            "patient__last_name",
            "treatment__name",
            "location__name",
            "room__name",
        )
        .order_by("starts_at")
    )
    calendar = feed_calendar(practitioner, sessions, domain=request.get_host().split(":")[0])
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
