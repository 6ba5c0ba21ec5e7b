"""Session reminders: each patient with a session in the next hours is emailed exactly once.

A reminder is claimed with a conditional UPDATE before it is sent, so two runs at once (two cron
hosts, a retry) cannot both send it; a send that fails releases the claim for the next run.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from treatments.models import Appointment, Treatment
from treatments.models.scheduling import AppointmentQuerySet


@dataclass(frozen=True)
class Reminder:
    first_name: str
    treatment: str
    when: str
    location: str
    address: str
    pre_care: tuple[str, ...]


def pre_care_of(treatment: Treatment) -> tuple[str, ...]:
    """The treatment's own instructions, then those of its components not already given."""
    lines = treatment.pre_care_lines()
    for component in treatment.components.all():
        for line in component.pre_care_lines():
            if line not in lines:
                lines.append(line)
    return tuple(lines)


def compose(reminder: Reminder) -> tuple[str, str]:
    subject = f"Your {reminder.treatment} appointment on {reminder.when}"
    lines = [
        f"Dear {reminder.first_name},",
        "",
        f"This is a reminder of your {reminder.treatment} appointment on {reminder.when} at {reminder.location}.",
    ]
    if reminder.address:
        lines.append(reminder.address)
    if reminder.pre_care:
        lines += ["", "To prepare:"] + [f"- {line}" for line in reminder.pre_care]
    lines += [
        "",
        "If you need to change or cancel, please call us as soon as you can.",
        "If anything about your health has changed (new medicines, pregnancy, a cold sore, sunburn), "
        "tell us before your visit.",
    ]
    return subject, "\n".join(lines)


def due(now: datetime, hours: int) -> AppointmentQuerySet:
    return (
        Appointment.objects.filter(status__in=sorted(Appointment.REMINDABLE), reminder_sent_at__isnull=True)
        .between(now, now + timedelta(hours=hours))
        .exclude(patient__email="")
        .select_related("patient", "treatment", "location")
        .prefetch_related("treatment__components")
        .order_by("starts_at")
    )


def send_due(*, hours: int = 24, now: datetime | None = None) -> tuple[int, int]:
    """Send the reminders due; returns (sent, failed)."""
    now = now or timezone.now()
    sent = failed = 0
    for session in due(now, hours):
        claimed = Appointment.objects.filter(pk=session.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=now
        )
        if not claimed:
            continue
        local = timezone.localtime(session.starts_at)
        subject, body = compose(
            Reminder(
                first_name=session.patient.first_name,
                treatment=session.treatment.name,
                when=f"{local:%A %B} {local.day} at {local:%H:%M}",
                location=session.location.name,
                address=session.location.address,
                pre_care=pre_care_of(session.treatment),
            )
        )
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [session.patient.email])
        except OSError:
            Appointment.objects.filter(pk=session.pk).update(reminder_sent_at=None)
            failed += 1
        else:
            sent += 1
    return sent, failed
