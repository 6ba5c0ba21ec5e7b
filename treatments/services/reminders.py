"""Session reminders: each patient with a session in the next hours is emailed exactly once.

A reminder is claimed with a conditional UPDATE before it is sent, so two runs at once (two cron
hosts, a retry) cannot both send it; it is marked sent only once the mail server took it. A send
that fails releases the claim for the next run; a claim left by a run that was killed is taken
again once it is older than REMINDER_LEASE_MINUTES. A mail server that times out or refuses the
connection stops the run: the rest are left for the next one rather than each waiting
EMAIL_TIMEOUT in turn. A patient without an e-mail address is recorded as such, not reminded, and
reminded by a later run once an address is on file.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from smtplib import SMTPRecipientsRefused

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Q
from django.utils import timezone

from treatments.models import Appointment, Treatment
from treatments.models.scheduling import AppointmentQuerySet

TIMED_OUT = "the mail server did not answer within {seconds} s"
SERVER_FAILED = "the mail server failed ({problem})"


@dataclass(frozen=True)
class Reminder:
    first_name: str
    treatment: str
    when: str
    location: str
    address: str
    pre_care: tuple[str, ...]


@dataclass(frozen=True)
class ReminderRun:
    """What a run did. `stopped` says why it gave up on the mail server ("" when it did not)."""

    sent: int = 0
    failed: int = 0
    without_address: int = 0
    stopped: str = ""


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


def _claimable(now: datetime) -> Q:
    """Not sent, and not claimed by a run that may still be sending it."""
    lease = timedelta(minutes=settings.REMINDER_LEASE_MINUTES)
    return Q(reminder_sent_at__isnull=True) & (
        Q(reminder_claimed_at__isnull=True) | Q(reminder_claimed_at__lt=now - lease)
    )


def due(now: datetime, hours: int) -> AppointmentQuerySet:
    return (
        Appointment.objects.filter(_claimable(now), status__in=sorted(Appointment.REMINDABLE))
        .between(now, now + timedelta(hours=hours))
        .select_related("patient", "treatment", "location")
        .prefetch_related("treatment__components")
        .order_by("starts_at")
    )


def _message(session: Appointment, connection: BaseEmailBackend) -> EmailMessage:
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
    return EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [session.patient.email], connection=connection
    )


def _stopped_by(problem: OSError) -> str:
    """Why the server stopped the run, by kind only: an SMTP error's text may quote an address."""
    cause: BaseException | None = problem
    while cause is not None:
        # smtplib turns a timeout while reading a reply into SMTPServerDisconnected.
        if isinstance(cause, TimeoutError):
            return TIMED_OUT.format(seconds=settings.EMAIL_TIMEOUT)
        cause = cause.__cause__ or cause.__context__
    return SERVER_FAILED.format(problem=type(problem).__name__)


def _record_no_address(sessions: list[Appointment], now: datetime) -> None:
    Appointment.objects.filter(
        pk__in=[session.pk for session in sessions], reminder_no_address_at__isnull=True
    ).update(reminder_no_address_at=now)


def send_due(*, hours: int = 24, now: datetime | None = None) -> ReminderRun:
    """Send the reminders due in the next `hours`."""
    now = now or timezone.now()
    sessions = list(due(now, hours))
    no_address = [session for session in sessions if not session.patient.email]
    _record_no_address(no_address, now)
    sent = failed = 0
    stopped = ""
    connection = get_connection()
    try:
        for session in sessions:
            if not session.patient.email:
                continue
            claimed_at = timezone.now()
            claimed = Appointment.objects.filter(_claimable(now), pk=session.pk).update(
                reminder_claimed_at=claimed_at
            )
            if not claimed:
                continue  # another run has it
            mine = Appointment.objects.filter(pk=session.pk, reminder_claimed_at=claimed_at)
            try:
                connection.open()  # one connection for the run, opened when the first is sent
                connection.send_messages([_message(session, connection)])
            except SMTPRecipientsRefused:
                # This address, not the server: the others can still be sent.
                mine.update(reminder_claimed_at=None)
                failed += 1
                continue
            except OSError as problem:
                # Timeouts, refused connections and SMTP errors (all OSErrors): the server is the
                # trouble, so every other send would wait for it too.
                mine.update(reminder_claimed_at=None)
                stopped = _stopped_by(problem)
                break
            Appointment.objects.filter(pk=session.pk).update(reminder_sent_at=timezone.now())
            sent += 1
    finally:
        # A QUIT the server never answers changes nothing that was sent.
        with suppress(OSError):
            connection.close()
    return ReminderRun(sent=sent, failed=failed, without_address=len(no_address), stopped=stopped)
