"""The sessions still ahead that hold a scheduling resource: what must move before it is deactivated."""

from datetime import datetime

from treatments.models import Appointment, Device, Location, Practitioner, Room
from treatments.models.scheduling import AppointmentQuerySet

SchedulingResource = Room | Device | Practitioner | Location


def sessions_ahead(*, resource: SchedulingResource, now: datetime) -> AppointmentQuerySet:
    """Sessions not yet over that still hold `resource` (booked, checked in or in progress)."""
    sessions = Appointment.objects.filter(status__in=sorted(Appointment.OPEN), blocked_until__gt=now)
    if isinstance(resource, Room):
        sessions = sessions.filter(room=resource)
    elif isinstance(resource, Device):
        sessions = sessions.filter(device_holds__device=resource, device_holds__active=True)
    elif isinstance(resource, Practitioner):
        sessions = sessions.filter(practitioner=resource)
    else:
        sessions = sessions.filter(location=resource)
    return sessions.select_related("patient").order_by("starts_at", "pk")
