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

Each question carries the clinician's wording (`question`, the checklist's) and the patient's
(`patient_question`): the catalog condition's patient wording (the intake questionnaire's,
`patients.intake.question_text`), with the time the checklist asks about and, for a condition of
the treated area, where. The patient is shown the second; the clinician sees both.

Answering judges the answers as the day-of screening does (`treatments.engine.screening.evaluate`
with the patient's profile on the session's day): `stop` when a "yes" blocks the session, with the
reasons the answers added (those the patient's history already gave are on My day's alerts).
"""

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from smtplib import SMTPRecipientsRefused
from typing import Any

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
from patients.intake import question_text
from patients.models import MedicalCondition, PortalLink
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


class PreVisitQuestion(Question):
    """A checklist question as stored in PreVisitCheck.questions: with the patient's wording and
    the condition's kind (the portal page groups by it)."""

    patient_question: str
    kind: str


# The checklist names the rule's time only in its question's words (the engine chooses the rule
# among a condition's rules): read it back from there rather than choose the rule again.
_WINDOW = re.compile(r" in the last (\d+) days\?$")
_NOW = re.compile(r" now\?$")
# Wording that already says when, or that asks in the present tense (where "right now" fits).
_SAYS_WHEN = re.compile(r"\b(now|at the moment|currently|today|in the last|ever|since)\b", re.IGNORECASE)
_PRESENT = re.compile(r"^(do|does|are|is|am)\b", re.IGNORECASE)
_RECENTLY = re.compile(r"\s*\brecently\b", re.IGNORECASE)
_SAYS_WHERE = re.compile(r"\b(treat|treated|treatment|area)\b", re.IGNORECASE)
WHERE = "on or near the area to be treated"
NOW = "Right now"
DAYS_PER_MONTH = 30.4375
# A question made from the catalog's name where the condition has no patient wording, by kind.
OPENERS: dict[str, str] = {
    MedicalCondition.Kind.MEDICATION: "Do you take or use",
    MedicalCondition.Kind.EVENT: "Have you had",
}
OPENER = "Do you have"


def _period(days: int) -> str:
    """ "2 weeks", "6 months", "10 days": never shorter than `days`, so a patient is never asked
    about less time than the rule covers."""
    if days % 7 == 0 and days <= 56:
        return "week" if days == 7 else f"{days // 7} weeks"
    months = round(days / DAYS_PER_MONTH)
    if months and 0 <= months * DAYS_PER_MONTH - days <= 3:
        return "month" if months == 1 else f"{months} months"
    return "day" if days == 1 else f"{days} days"


def _lower_first(text: str) -> str:
    """ "Do you…" → "do you…", leaving "PRP…" and "I…" as they are."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:] == first[1:].lower():
        return text[0].lower() + text[1:]
    return text


def _patient_wording(condition: MedicalCondition) -> str:
    """The catalog's patient wording of `condition` (the intake questionnaire's), or a question made
    from its name: the intake's own fallback quotes the description, written for clinicians."""
    own = condition.intake_question.strip()
    if own:
        return own if own.endswith("?") else f"{own}?"
    wording = question_text(condition).strip()
    if wording.endswith("?"):
        return wording
    return f"{OPENERS.get(condition.kind, OPENER)} {_lower_first(condition.name.strip())}?"


def patient_question(asked: str, condition: MedicalCondition | None) -> str:
    """The patient's wording of the checklist question `asked` about `condition`: the condition's
    patient wording, with the time the checklist asks about ("In the last 6 months, …", "Right now,
    …") and, for a condition of the treated area that the wording does not place, where."""
    if condition is None:
        return asked
    stem = _patient_wording(condition).rstrip().rstrip("?").rstrip()
    lead = ""
    window = _WINDOW.search(asked)
    if window:
        period = f"in the last {_period(int(window.group(1)))}"
        if period not in stem.lower():
            lead = period[0].upper() + period[1:]
            stem = _RECENTLY.sub("", stem)  # "recently" is now the period
    elif _NOW.search(asked) and _PRESENT.match(stem) and not _SAYS_WHEN.search(stem):
        lead = NOW
    if condition.area_specific and not _SAYS_WHERE.search(stem):
        stem = f"{stem}, {WHERE}"
    return f"{lead}, {_lower_first(stem)}?" if lead else f"{stem}?"


def with_patient_wording(questions: Sequence[Mapping[str, Any]]) -> list[PreVisitQuestion]:
    """`questions` with each one's patient wording and kind (kept where they are there already).
    One query."""
    slugs = [question["condition"] for question in questions]
    conditions = {condition.slug: condition for condition in MedicalCondition.objects.filter(slug__in=slugs)}
    worded: list[PreVisitQuestion] = []
    for question in questions:
        condition = conditions.get(question["condition"])
        worded.append(
            {
                "condition": question["condition"],
                "question": question["question"],
                "severity": question["severity"],
                "patient_question": question.get("patient_question")
                or patient_question(question["question"], condition),
                "kind": question.get("kind") or (condition.kind if condition else ""),
            }
        )
    return worded


def questions_for(catalog: CurrentCatalog, treatment: str) -> list[PreVisitQuestion]:
    """The day-of screening checklist of `treatment` in the current catalog, as the record's
    screening asks it (treatments.selectors.session_context), each with the patient's wording."""
    return with_patient_wording(screening.checklist(catalog.engine, treatment))


def previsit_open(
    *,
    session: Appointment,
    catalog: CurrentCatalog | None = None,
    known: dict[str, list[PreVisitQuestion]] | None = None,
) -> PreVisitCheck:
    """The session's questions, made from the current catalog the first time they are needed (when
    sent, or when the patient opens them first). `known` caches a run's checklists by treatment."""
    check = PreVisitCheck.objects.filter(appointment=session).first()
    if check is not None:
        if check.answered_at is None and any("patient_question" not in q for q in check.questions):
            # Made before questions carried the patient's wording: store the wording the patient
            # is about to be shown, so that the clinician sees what was answered.
            check.questions = with_patient_wording(check.questions)
            PreVisitCheck.objects.filter(pk=check.pk, answered_at__isnull=True).update(
                questions=check.questions
            )
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
    known: dict[str, list[PreVisitQuestion]] = {}
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
