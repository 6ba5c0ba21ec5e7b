"""Sending the pre-visit questions (issue 17): `send_previsit` sends each booked session's questions
once, PORTAL_PREVISIT_HOURS before it, by e-mail or text message, with a single-use sign-in link
that lands on the questions; the message names no treatment and nothing clinical."""

import re
import threading
from datetime import date, timedelta
from smtplib import SMTPRecipientsRefused

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import PortalLink
from patients.portal_services import portal_link_issue, portal_next_path, token_hash
from tests import factories
from tests.portal.helpers import ask_link, link_path
from treatments.models import Appointment, PreVisitCheck, Treatment
from treatments.selectors.plan_suggestions import current_catalog
from treatments.services.previsit import PreVisitRun, previsit_send_due, questions_for

BASE = "https://clinic.example"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def link_url(token: str) -> str:
    return BASE + reverse("portal:link", args=[token])


def send(now=None) -> PreVisitRun:
    return previsit_send_due(now=now or timezone.now(), link_url=link_url)


@pytest.fixture
def doctor(db):
    return factories.make_practitioner(factories.make_location(name="Harbour Street"))


def session_in(hours, *, doctor, status=Appointment.Status.BOOKED, **patient):
    start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    patient.setdefault("date_of_birth", date(1985, 2, 3))
    return factories.make_session(
        patient=factories.PatientFactory(**patient),
        practitioner=doctor,
        start=start,
        status=status,
        consent=False,
    )


class RefusingBackend(LocmemBackend):
    """Refuses one address as a mail server would at RCPT TO, and takes the others."""

    def send_messages(self, messages):
        for message in messages:
            if "bounce" in message.to[0]:
                raise SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(messages)


class FailingSms:
    def send(self, to, body):
        raise RuntimeError(f"provider down for {to}")


@pytest.mark.django_db
def test_a_session_within_48_hours_gets_its_questions_once_by_email(doctor, capsys):
    session = session_in(30, doctor=doctor, first_name="Rita", email="rita@example.com")
    call_command("send_previsit", "--base-url", BASE)
    assert capsys.readouterr().out == (
        "Pre-visit questions: 1 sent, 0 failed, 0 not sent (no e-mail address or phone number).\n"
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rita@example.com"]
    assert message.subject.startswith("Questions before your visit on ")
    assert "Hello Rita" in message.body and "Harbour Street" in message.body
    local = timezone.localtime(session.starts_at)
    assert f"{local:%H:%M}" in message.body
    assert re.search(rf"{re.escape(BASE)}/portal/link/[A-Za-z0-9_\-]+/", message.body)
    # Nothing clinical: no treatment, no question.
    treatment = Treatment.objects.get(slug="mn")
    asked = questions_for(current_catalog(), "mn")
    for text in [treatment.name, "icroneedling", *(q["question"] for q in asked)]:
        assert text not in message.body and text not in message.subject
    check = PreVisitCheck.objects.get(appointment=session)
    assert check.questions == asked
    assert check.sent_at is not None and check.claimed_at is not None
    link = PortalLink.objects.get(patient=session.patient)
    assert link.next_path == reverse("portal:previsit", args=[session.pk])
    assert link.expires_at == session.starts_at and link.channel == PortalLink.Channel.EMAIL
    call_command("send_previsit", "--base-url", BASE)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_only_booked_sessions_ahead_inside_the_window_and_not_answered(doctor):
    session_in(49, doctor=doctor)
    session_in(24, doctor=doctor, status=Appointment.Status.CANCELLED)
    session_in(20, doctor=doctor, status=Appointment.Status.CHECKED_IN)
    session_in(-1, doctor=doctor)
    archived = session_in(10, doctor=doctor)
    archived.patient.archived_at = timezone.now()
    archived.patient.save()
    answered = session_in(12, doctor=doctor)
    PreVisitCheck.objects.create(appointment=answered, answered_at=timezone.now())
    assert send() == PreVisitRun()
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_window_is_a_setting(doctor, settings):
    settings.PORTAL_PREVISIT_HOURS = 72
    session_in(60, doctor=doctor)
    assert send() == PreVisitRun(sent=1)


@pytest.mark.django_db
def test_no_email_sends_a_text_and_neither_is_counted_and_left_for_later(doctor, sms_outbox):
    texted = session_in(20, doctor=doctor, email="", phone="+1 212 555 0100")
    unreachable = session_in(22, doctor=doctor, email="", phone="")
    assert send() == PreVisitRun(sent=1, without_address=1)
    assert mail.outbox == []
    assert [m.to for m in sms_outbox] == ["+1 212 555 0100"]
    body = sms_outbox[0].body
    assert "/portal/link/" in body and "icroneedling" not in body
    assert PortalLink.objects.get(patient=texted.patient).channel == PortalLink.Channel.SMS
    assert not PreVisitCheck.objects.filter(appointment=unreachable).exists()
    unreachable.patient.email = "found@example.com"
    unreachable.patient.save()
    assert send() == PreVisitRun(sent=1)


@pytest.mark.django_db
def test_the_link_signs_in_with_the_birth_date_and_lands_on_the_questions(doctor):
    session = session_in(30, doctor=doctor, email="lands@example.com", date_of_birth=date(1979, 8, 1))
    send()
    client = Client()
    path = link_path(mail.outbox[0].body)
    response = client.get(path)
    assert response.status_code == 302
    response = client.post(response["Location"], {"birth_date": "1979-08-01"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:previsit", args=[session.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Questions before your visit" in page.content.decode()


@pytest.mark.django_db
def test_the_link_stops_working_when_the_session_starts(doctor):
    session = session_in(30, doctor=doctor, email="late@example.com")
    send()
    link = PortalLink.objects.get(patient=session.patient)
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(link_path(mail.outbox[0].body), follow=True)
    assert response.status_code == 410


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_path",
    [
        "https://elsewhere.example/portal/",
        "//elsewhere.example/portal/",
        "/portal\\@elsewhere.example",
        "/admin/",
        "javascript:alert(1)",
    ],
)
def test_a_next_path_outside_the_portal_is_never_followed(next_path):
    patient = factories.PatientFactory(date_of_birth=date(1990, 1, 1))
    token = "a-token-for-this-test"
    now = timezone.now()
    PortalLink.objects.create(
        patient=patient,
        token_hash=token_hash(token),
        channel=PortalLink.Channel.EMAIL,
        created_at=now,
        expires_at=now + timedelta(minutes=15),
        next_path=next_path,
    )
    client = Client()
    client.get(reverse("portal:link", args=[token]))
    response = client.post(reverse("portal:link", args=["confirm"]), {"birth_date": "1990-01-01"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert portal_next_path(next_path) == ""
    with pytest.raises(ValueError):
        portal_link_issue(patient=patient, channel="email", now=now, expires_at=now, next_path=next_path)


@pytest.mark.django_db
def test_a_refused_address_fails_alone_releases_its_claim_and_withdraws_its_link(doctor, settings):
    refused = session_in(20, doctor=doctor, email="bounce@example.com")
    session_in(22, doctor=doctor, email="ok@example.com")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert send() == PreVisitRun(sent=1, failed=1)
    assert [m.to for m in mail.outbox] == [["ok@example.com"]]
    check = PreVisitCheck.objects.get(appointment=refused)
    assert (check.sent_at, check.claimed_at) == (None, None)
    assert not PortalLink.objects.filter(patient=refused.patient).exists()
    with pytest.raises(CommandError, match="1 failed") as failed:
        call_command("send_previsit", "--base-url", BASE)
    assert failed.value.returncode == 1
    settings.EMAIL_BACKEND = LOCMEM
    assert send() == PreVisitRun(sent=1)


@pytest.mark.django_db
def test_a_refused_connection_stops_the_run_and_the_next_run_sends(doctor, settings):
    session = session_in(20, doctor=doctor)
    session_in(23, doctor=doctor)
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    run = send()
    assert (run.sent, run.stopped) == (0, "the mail server failed (ConnectionRefusedError)")
    check = PreVisitCheck.objects.get(appointment=session)
    assert (check.sent_at, check.claimed_at) == (None, None)
    assert not PortalLink.objects.exists()
    settings.EMAIL_BACKEND = LOCMEM
    assert send() == PreVisitRun(sent=2)


@pytest.mark.django_db
def test_a_failing_text_provider_releases_the_claim(doctor, settings):
    session = session_in(20, doctor=doctor, email="", phone="+44 20 7946 0000")
    settings.SMS_BACKEND = f"{__name__}.FailingSms"
    assert send() == PreVisitRun(failed=1)
    check = PreVisitCheck.objects.get(appointment=session)
    assert (check.sent_at, check.claimed_at) == (None, None)
    settings.SMS_BACKEND = "clinic.sms.LocmemBackend"
    assert send() == PreVisitRun(sent=1)


@pytest.mark.django_db
def test_a_claim_left_by_a_killed_run_is_sent_after_the_lease_not_before(doctor, settings):
    settings.REMINDER_LEASE_MINUTES = 15
    session = session_in(20, doctor=doctor)
    now = timezone.now()
    PreVisitCheck.objects.create(appointment=session, claimed_at=now - timedelta(minutes=10))
    assert send(now) == PreVisitRun()
    assert send(now + timedelta(minutes=6)) == PreVisitRun(sent=1)
    assert send(now + timedelta(minutes=40)) == PreVisitRun()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_clinics_links_do_not_use_up_the_patients_own_sign_in_requests(doctor):
    patient = factories.PatientFactory(email="often@example.com")
    for hours in (10, 13, 16):
        start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
        factories.make_session(patient=patient, practitioner=doctor, start=start, consent=False)
    assert send() == PreVisitRun(sent=3)
    ask_link(Client(), "often@example.com")
    assert len(mail.outbox) == 4 and "/portal/link/" in mail.outbox[-1].body


@pytest.mark.django_db
def test_the_command_needs_the_sites_address(doctor, settings):
    session_in(20, doctor=doctor)
    with pytest.raises(CommandError, match="--base-url") as refused:
        call_command("send_previsit")
    assert refused.value.returncode == 2
    settings.PORTAL_BASE_URL = BASE + "/"
    call_command("send_previsit")
    assert f"{BASE}/portal/link/" in mail.outbox[0].body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_once(catalog):
    location = factories.make_location(name="Busy Clinic")
    for _ in range(8):
        session_in(20, doctor=factories.make_practitioner(location))
    barrier = threading.Barrier(4)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(send())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.sent for result in results) == 8
    assert len(mail.outbox) == 8 and len({m.to[0] for m in mail.outbox}) == 8
    assert PreVisitCheck.objects.count() == 8
    assert not PreVisitCheck.objects.filter(sent_at__isnull=True).exists()
    assert PortalLink.objects.count() == 8
