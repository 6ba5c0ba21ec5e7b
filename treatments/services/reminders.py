"""Session reminders: each patient with a session in the next hours is emailed exactly once.

A reminder is claimed with a conditional UPDATE before it is sent, so two runs at once (two cron
hosts, a retry) cannot both send it; a send that fails releases the claim for the next run.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from treatments.models import Appointment

REMIND_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)


@dataclass(frozen=True)
class Reminder:
    first_name: str
    treatment: str
    when: str
    location: str
    address: str
    pre_care: tuple


def pre_care_of(treatment):
    """The treatment's own instructions, then those of its components not already given."""
    lines = [line.strip() for line in treatment.pre_care.splitlines() if line.strip()]
    for component in treatment.components.all():
        for line in component.pre_care.splitlines():
            if line.strip() and line.strip() not in lines:
                lines.append(line.strip())
    return tuple(lines)


def compose(reminder):
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


def due(now, hours):
    return (
        Appointment.objects.filter(
            status__in=REMIND_STATUSES,
            reminder_sent_at__isnull=True,
            starts_at__gte=now,
            starts_at__lt=now + timedelta(hours=hours),
        )
        .exclude(patient__email="")
        .select_related("patient", "treatment", "location")
        .prefetch_related("treatment__components")
        .order_by("starts_at")
    )


def send_due(*, hours=24, now=None):
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
