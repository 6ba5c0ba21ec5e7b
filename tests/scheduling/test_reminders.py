import socket
import threading
from datetime import timedelta
from smtplib import SMTPRecipientsRefused
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment
from treatments.services.reminders import ReminderRun, send_due

SMTP = "django.core.mail.backends.smtp.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def session_in(hours, *, location, doctor, treatment="mn_prp", **patient):
    start = timezone.now() + timedelta(hours=hours)
    return Appointment.objects.create(
        patient=PatientFactory(**patient),
        treatment=factories.treatment(treatment),
        practitioner=doctor,
        location=location,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        blocked_until=start + timedelta(minutes=75),
    )


@pytest.fixture
def clinic(db):
    location = factories.make_location(name="Reminder Clinic")
    return {"location": location, "doctor": factories.make_practitioner(location)}


@pytest.fixture
def silent_mail_server():
    """A real TCP server on localhost that accepts connections and never answers: the mail server
    that hangs. Yields its port and the connections it accepted."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    accepted = []
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield SimpleNamespace(port=listener.getsockname()[1], accepted=accepted)
    done.set()
    thread.join()
    for peer in accepted:
        peer.close()
    listener.close()


@pytest.fixture
def smtp_to(settings):
    def point(port, timeout=1):
        settings.EMAIL_BACKEND = SMTP
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, timeout

    return point


class RefusingBackend(LocmemBackend):
    """Refuses one address as a mail server would at RCPT TO, and takes the others."""

    def send_messages(self, messages):
        for message in messages:
            if "bounce" in message.to[0]:
                raise SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_session_tomorrow_gets_one_reminder_with_its_prep(clinic, capsys):
    session = session_in(20, **clinic, first_name="Rita", email="rita@example.com")
    call_command("send_reminders", "--hours", "24")
    assert capsys.readouterr().out == "Reminders: 1 sent, 0 failed, 0 not sent (no e-mail address).\n"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rita@example.com"]
    assert "Dear Rita" in message.body and "Microneedling" in message.subject
    assert "retinoids" in message.body and "antiviral" in message.body
    session.refresh_from_db()
    assert session.reminder_sent_at is not None
    call_command("send_reminders", "--hours", "24")
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_only_booked_sessions_inside_the_window_with_an_email(clinic):
    session_in(30, **clinic)
    cancelled = session_in(2, **clinic)
    cancelled.status = "cancelled"
    cancelled.save()
    session_in(3, **clinic, email="")
    session_in(-1, **clinic)
    assert send_due(hours=24) == ReminderRun(sent=0, failed=0, without_address=1)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_refused_connection_stops_the_run_and_the_next_run_sends(clinic, smtp_to, settings):
    session = session_in(5, **clinic)
    smtp_to(9)  # discard: nothing listens there
    run = send_due(hours=24)
    assert (run.sent, run.stopped) == (0, "the mail server failed (ConnectionRefusedError)")
    session.refresh_from_db()
    assert (session.reminder_sent_at, session.reminder_claimed_at) == (None, None)
    settings.EMAIL_BACKEND = LOCMEM
    assert send_due(hours=24) == ReminderRun(sent=1)


@pytest.mark.django_db
def test_a_silent_mail_server_stops_the_run_after_one_timeout_and_the_next_run_sends(
    clinic, silent_mail_server, smtp_to, settings
):
    sessions = [session_in(hours, **clinic) for hours in (2, 4, 6)]
    smtp_to(silent_mail_server.port, timeout=1)

    run = send_due(hours=24)

    assert run == ReminderRun(stopped="the mail server did not answer within 1 s")
    # One connection, one timeout: the run did not wait EMAIL_TIMEOUT again for each session.
    assert len(silent_mail_server.accepted) == 1
    for session in sessions:
        session.refresh_from_db()
        assert (session.reminder_sent_at, session.reminder_claimed_at) == (None, None)
    settings.EMAIL_BACKEND = LOCMEM
    assert send_due(hours=24) == ReminderRun(sent=3)
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_the_command_reports_a_silent_mail_server_on_one_line_and_exits_non_zero(
    clinic, silent_mail_server, smtp_to
):
    session_in(2, **clinic)
    smtp_to(silent_mail_server.port, timeout=1)
    with pytest.raises(CommandError) as stopped:
        call_command("send_reminders", "--hours", "24")
    assert stopped.value.returncode == 1
    report = str(stopped.value)
    assert "\n" not in report
    assert report.startswith("Reminders stopped, the mail server did not answer within 1 s: 0 sent")
    assert report.endswith("The rest are left for the next run.")


@pytest.mark.django_db
def test_a_refused_address_fails_alone_and_the_others_are_sent(clinic, settings):
    refused = session_in(2, **clinic, email="bounce@example.com")
    session_in(4, **clinic, email="ok@example.com")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert send_due(hours=24) == ReminderRun(sent=1, failed=1)
    assert [m.to for m in mail.outbox] == [["ok@example.com"]]
    refused.refresh_from_db()
    assert (refused.reminder_sent_at, refused.reminder_claimed_at) == (None, None)
    with pytest.raises(CommandError, match="1 failed") as failed:
        call_command("send_reminders", "--hours", "24")
    assert failed.value.returncode == 1


@pytest.mark.django_db
def test_a_claim_left_by_a_killed_run_is_sent_after_the_lease_not_before(clinic, settings):
    settings.REMINDER_LEASE_MINUTES = 15
    session = session_in(5, **clinic)
    now = timezone.now()
    # The killed run claimed the reminder and never marked it sent.
    Appointment.objects.filter(pk=session.pk).update(reminder_claimed_at=now - timedelta(minutes=10))

    assert send_due(hours=24, now=now) == ReminderRun()
    assert mail.outbox == []

    assert send_due(hours=24, now=now + timedelta(minutes=6)) == ReminderRun(sent=1)
    assert len(mail.outbox) == 1
    session.refresh_from_db()
    assert session.reminder_sent_at is not None
    assert send_due(hours=24, now=now + timedelta(minutes=40)) == ReminderRun()


@pytest.mark.django_db
def test_a_patient_without_an_address_is_recorded_then_reminded_once_one_is_added(clinic):
    session = session_in(5, **clinic, email="")

    assert send_due(hours=24) == ReminderRun(without_address=1)
    session.refresh_from_db()
    assert session.reminder_no_address_at is not None
    assert session.reminder_sent_at is None
    assert mail.outbox == []

    session.patient.email = "found@example.com"
    session.patient.save()
    assert send_due(hours=24) == ReminderRun(sent=1)
    assert [m.to for m in mail.outbox] == [["found@example.com"]]
    session.refresh_from_db()
    assert session.reminder_sent_at is not None


@pytest.mark.django_db
def test_an_address_added_after_the_session_started_sends_nothing(clinic):
    session = session_in(1, **clinic, email="")
    now = timezone.now()
    send_due(hours=24, now=now)
    session.patient.email = "late@example.com"
    session.patient.save()
    assert send_due(hours=24, now=now + timedelta(hours=2)) == ReminderRun()
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(catalog):
    location = factories.make_location(name="Busy Clinic")
    doctors = [factories.make_practitioner(location) for _ in range(10)]
    for doctor in doctors:
        session_in(6, location=location, doctor=doctor)
    barrier = threading.Barrier(4)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(send_due(hours=24))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.sent for result in results) == 10
    assert len(mail.outbox) == 10
    assert len({m.to[0] for m in mail.outbox}) == 10
    assert not Appointment.objects.filter(reminder_sent_at__isnull=True).exists()
