"""The pre-visit questions (docs/portal.md): the day-of screening checklist sent to the patient
PORTAL_PREVISIT_HOURS before a session, answered on the phone, and confirmed by the clinician at
the visit.

Sending mirrors the reminders (treatments/services/reminders.py): each session's request is
claimed with a conditional UPDATE of its PreVisitCheck row before it is sent, so two runs at once
send it once; it is marked sent only once the mail server or the text-message provider took it. A
failed delivery releases the claim (and withdraws the sign-in link nobody received) for the next
run; a claim left by a killed run is taken again after REMINDER_LEASE_MINUTES. A mail server that
times out or refuses the connection stops the run. The message names no treatment and nothing
clinical: only the day, the time, the place and a single-use sign-in link that lands on the
questions and works until the session starts.

Answering judges the answers as the day-of screening does (`treatments.engine.screening.evaluate`
with the patient's profile on the session's day): `stop` when a "yes" blocks the session, with the
reasons the answers added (those the patient's history already gave are on My day's alerts).
"""

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from smtplib import SMTPRecipientsRefused

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from clinic.sms import send_sms
from patients.models import PortalLink
from patients.portal_services import portal_link_issue, portal_link_withdraw
from treatments.engine import screening
from treatments.engine.plan_results import Reason
from treatments.engine.screening import Question
from treatments.models import Appointment, PreVisitCheck
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import CurrentCatalog, current_catalog
from treatments.selectors.session_context import area_slugs, session_day
from treatments.services.reminders import SERVER_FAILED, TIMED_OUT, ReminderRun

logger = logging.getLogger(__name__)

CLOSED = "The questions for this session are closed."
ANSWER_ALL = "Please answer every question."
NEW_MEDICATIONS_MAX = 500


# A run's tally is a reminder run's: sent, failed, without an address, why it stopped.
PreVisitRun = ReminderRun


def questions_for(catalog: CurrentCatalog, treatment: str) -> list[Question]:
    """The day-of screening checklist of `treatment` in the current catalog, as the record's
    screening asks it (treatments.selectors.session_context)."""
    return screening.checklist(catalog.engine, treatment)


def previsit_open(
    *,
    session: Appointment,
    catalog: CurrentCatalog | None = None,
    known: dict[str, list[Question]] | None = None,
) -> PreVisitCheck:
    """The session's questions, made from the current catalog the first time they are needed (when
    sent, or when the patient opens them first). `known` caches a run's checklists by treatment."""
    check = PreVisitCheck.objects.filter(appointment=session).first()
    if check is not None:
        return check
    slug = session.treatment.slug
    if known is not None and slug in known:
        questions = known[slug]
    else:
        questions = questions_for(catalog or current_catalog(), slug)
        if known is not None:
            known[slug] = questions
    # Two runs (or a run and the patient) at once: one row, the other reads it.
    check, _ = PreVisitCheck.objects.get_or_create(appointment=session, defaults={"questions": questions})
    return check


def _added_reasons(outcome: tuple[Reason, ...], before: tuple[Reason, ...]) -> list[Reason]:
    """The reasons in `outcome` that `before` did not give (as many times as they were added)."""
    left = Counter(before)
    added = []
    for reason in outcome:
        if left[reason]:
            left[reason] -= 1
        else:
            added.append(reason)
    return added


@transaction.atomic
def previsit_answer(
    *,
    check: PreVisitCheck,
    answers: Mapping[str, bool],
    new_medications: str,
    by: User,
    now: datetime,
) -> PreVisitCheck:
    """Store the patient's answers and judge them; a later save replaces them, until the session
    starts. The row is locked, so two saves at once are judged one after the other. ValidationError
    (code "closed") once the session started, is no longer booked or was screened; (code
    "missing") when a question is not answered."""
    locked = (
        PreVisitCheck.objects.select_for_update(of=("self",))
        .select_related("appointment__patient", "appointment__treatment")
        .get(pk=check.pk)
    )
    session = locked.appointment
    if (
        session.status != Appointment.Status.BOOKED
        or session.starts_at <= now
        or locked.confirmed_at is not None
    ):
        raise ValidationError(CLOSED, code="closed")
    asked = [question["condition"] for question in locked.questions]
    if any(answers.get(slug) is None for slug in asked):
        raise ValidationError(ANSWER_ALL, code="missing")
    answered = {slug: bool(answers[slug]) for slug in asked}
    catalog = current_catalog()
    profile = profile_for_patient(session.patient, today=session_day(session))
    areas = area_slugs(session)
    treatment = session.treatment.slug
    outcome = screening.evaluate(profile, catalog.engine, treatment, areas, answered)
    before = screening.evaluate(profile, catalog.engine, treatment, areas, {})
    added = _added_reasons(outcome.reasons, before.reasons) if outcome.stop else []
    locked.answers = answered
    locked.new_medications = new_medications.strip()[:NEW_MEDICATIONS_MAX]
    locked.answered_at = now
    locked.answered_by = by
    locked.stop = bool(added)
    # As the record's screening stores them: {"code", "severity", "text"} each.
    locked.stop_reasons = [reason.to_json() for reason in added]
    # Only the answer's fields: a run sending the request at the same time writes the others.
    locked.save(
        update_fields=["answers", "new_medications", "answered_at", "answered_by", "stop", "stop_reasons"]
    )
    return locked


def previsit_confirm(*, appointment: Appointment, by: User, now: datetime) -> int:
    """The clinician went through the patient's answers at screening (recording.session_screen).
    Returns 1 when there were answers to confirm, else 0."""
    return PreVisitCheck.objects.filter(
        appointment=appointment, answered_at__isnull=False, confirmed_at__isnull=True
    ).update(confirmed_at=now, confirmed_by=by)


# Sending


def _claimable(now: datetime) -> Q:
    """Not sent, not answered, and not claimed by a run that may still be sending it."""
    lease = timedelta(minutes=settings.REMINDER_LEASE_MINUTES)
    return (
        Q(sent_at__isnull=True)
        & Q(answered_at__isnull=True)
        & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease))
    )


def due(now: datetime) -> list[Appointment]:
    """Booked sessions of active patients starting within PORTAL_PREVISIT_HOURS whose questions
    were neither sent nor answered yet."""
    return list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=settings.PORTAL_PREVISIT_HOURS),
            patient__archived_at__isnull=True,
        )
        .exclude(previsit__sent_at__isnull=False)
        .exclude(previsit__answered_at__isnull=False)
        .select_related("patient", "treatment", "location")
        .order_by("starts_at", "pk")
    )


def _when(session: Appointment) -> tuple[str, str]:
    """("Tuesday 3 March at 10:00", "Tue 3 Mar at 10:00") in the clinic's time."""
    local = timezone.localtime(session.starts_at)
    return (
        f"{local:%A} {local.day} {local:%B} at {local:%H:%M}",
        f"{local:%a} {local.day} {local:%b} at {local:%H:%M}",
    )


def compose_email(session: Appointment, url: str) -> tuple[str, str]:
    """(subject, body): the day, the time, the place and the link; no treatment, nothing clinical."""
    long, short = _when(session)
    subject = f"Questions before your visit on {short.split(' at ')[0]}"
    body = "\n".join(
        [
            f"Hello {session.patient.first_name},",
            "",
            f"Before your visit on {long} at {session.location.name}, please answer a few short "
            "questions about your health. It takes a minute on your phone:",
            url,
            "",
            "The link works once, until your visit, and asks for your date of birth.",
            "If anything you answer means the visit cannot go ahead, the clinic will call you.",
            "If you did not expect this message, please call the clinic.",
        ]
    )
    return subject, body


def compose_sms(session: Appointment, url: str) -> str:
    _, short = _when(session)
    return (
        f"Before your clinic visit on {short}, please answer a few short questions: {url} "
        "(works once, asks for your date of birth)"
    )


def _stopped_by(problem: OSError) -> str:
    """Why the server stopped the run, by kind only: an SMTP error's text may quote an address."""
    cause: BaseException | None = problem
    while cause is not None:
        if isinstance(cause, TimeoutError):
            return TIMED_OUT.format(seconds=settings.EMAIL_TIMEOUT)
        cause = cause.__cause__ or cause.__context__
    return SERVER_FAILED.format(problem=type(problem).__name__)


def previsit_send_due(*, now: datetime, link_url: Callable[[str], str]) -> PreVisitRun:
    """Send the questions of each session due (see `due`): by e-mail, or by text message when the
    patient has a phone number and no e-mail address. `link_url` spells a sign-in token as the
    address the patient opens (…/portal/link/<token>/)."""
    sessions = due(now)
    catalog = current_catalog()  # read once for the run
    known: dict[str, list[Question]] = {}
    sent = failed = without_address = 0
    stopped = ""
    connection = get_connection()
    try:
        for session in sessions:
            patient = session.patient
            channel = (
                PortalLink.Channel.EMAIL if patient.email else PortalLink.Channel.SMS if patient.phone else ""
            )
            if not channel:
                without_address += 1
                continue
            check = previsit_open(session=session, catalog=catalog, known=known)
            claimed = PreVisitCheck.objects.filter(_claimable(now), pk=check.pk).update(claimed_at=now)
            if not claimed:
                continue  # another run has it, or the patient answered meanwhile
            mine = PreVisitCheck.objects.filter(pk=check.pk, claimed_at=now)
            token = portal_link_issue(
                patient=patient,
                channel=channel,
                now=now,
                expires_at=session.starts_at,
                next_path=reverse("portal:previsit", kwargs={"pk": session.pk}),
            )
            url = link_url(token)
            try:
                if channel == PortalLink.Channel.EMAIL:
                    connection.open()  # one connection for the run, opened at the first e-mail
                    connection.send_messages([_email(session, url, connection)])
                else:
                    send_sms(patient.phone, compose_sms(session, url))
            except SMTPRecipientsRefused:
                # This address, not the server: the others can still be sent.
                _release(mine, token)
                failed += 1
                continue
            except OSError as problem:
                _release(mine, token)
                if channel == PortalLink.Channel.EMAIL:
                    # Timeouts, refused connections, SMTP errors: every other e-mail would wait too.
                    stopped = _stopped_by(problem)
                    break
                logger.warning(
                    "pre-visit text for session %s not sent: %s", session.pk, type(problem).__name__
                )
                failed += 1
                continue
            except Exception as problem:
                # A text-message provider's own error: logged by class only (its text may hold
                # the number), retried on the next run.
                _release(mine, token)
                logger.warning(
                    "pre-visit message for session %s not sent: %s", session.pk, type(problem).__name__
                )
                failed += 1
                continue
            PreVisitCheck.objects.filter(pk=check.pk).update(sent_at=now)
            sent += 1
    finally:
        with suppress(OSError):
            connection.close()
    return PreVisitRun(sent=sent, failed=failed, without_address=without_address, stopped=stopped)


def _email(session: Appointment, url: str, connection: BaseEmailBackend) -> EmailMessage:
    subject, body = compose_email(session, url)
    return EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [session.patient.email], connection=connection
    )


def _release(mine: QuerySet[PreVisitCheck], token: str) -> None:
    mine.update(claimed_at=None)
    portal_link_withdraw(token=token)
