import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment
from treatments.services.reminders import send_due


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


@pytest.mark.django_db
def test_a_session_tomorrow_gets_one_reminder_with_its_prep(clinic):
    session = session_in(20, **clinic, first_name="Rita", email="rita@example.com")
    call_command("send_reminders", "--hours", "24")
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
    assert send_due(hours=24) == (0, 0)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_failed_send_is_retried_next_run(clinic, settings):
    session = session_in(5, **clinic)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert send_due(hours=24) == (0, 1)
    session.refresh_from_db()
    assert session.reminder_sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_due(hours=24) == (1, 0)


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
    assert sum(sent for sent, _ in results) == 10
    assert len(mail.outbox) == 10
    assert len({m.to[0] for m in mail.outbox}) == 10
