"""Writes of the patient portal: sending a sign-in link, and signing in with one (docs/portal.md).

Keyword-only, no request: the view passes the client's address, the clock and how to spell a link.
"""

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils.http import url_has_allowed_host_and_scheme

from clinic.roles import PATIENT
from clinic.sms import send_sms
from patients.models import Patient, PortalAccount, PortalLink

logger = logging.getLogger(__name__)

PORTAL_SENT = "If these details match a patient of the clinic, we have sent a sign-in link."
PORTAL_CONTACT_INVALID = "Enter the e-mail address or the phone number the clinic has for you."
PORTAL_TOO_MANY_FROM_ADDRESS = (
    "Too many sign-in requests came from this connection. Please wait 15 minutes and try again."
)
PORTAL_TOO_MANY_FOR_CONTACT = (
    "Too many sign-in links were asked for these details. Please wait an hour, or call the clinic."
)
PORTAL_LINK_UNKNOWN = "This sign-in link is not valid. Please ask for a new one."
PORTAL_LINK_USED = "This sign-in link has already been used. Please ask for a new one."
PORTAL_LINK_EXPIRED = "This sign-in link has expired. Please ask for a new one."
PORTAL_LINK_BURNT = (
    "This sign-in link no longer works: the birth date was entered wrong too many times. "
    "Please ask for a new one."
)
PORTAL_WRONG_BIRTH_DATE = "That birth date does not match our records. Please check it and try again."
PORTAL_TRIES_LEFT = "{left} more tries on this link."
PORTAL_LAST_TRY = "One more try on this link: after that, ask for a new one."
PORTAL_ACCOUNT_CLOSED = "Your access to the portal is closed. Please call the clinic."

# Limits; docs/portal.md explains each.
LINKS_PER_PATIENT_PER_HOUR = 3
REQUESTS_PER_CONTACT_PER_HOUR = 3
REQUESTS_PER_ADDRESS = 10
ADDRESS_WINDOW_SECONDS = 15 * 60
MAX_BIRTH_DATE_ATTEMPTS = 5
MATCHES_SENT = 3  # a family sharing one address: each member gets their own link
PHONE_MIN_DIGITS = 7
PHONE_SUFFIX_DIGITS = 10  # "212 555 0100" finds "+1 212 555 0100"


@dataclass(frozen=True, slots=True)
class Contact:
    """What the patient typed, normalised: an e-mail address or the digits of a phone number."""

    channel: str  # PortalLink.Channel
    value: str


def portal_contact_parse(text: str) -> Contact:
    text = text.strip()
    if "@" in text:
        if len(text) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
            raise ValidationError(PORTAL_CONTACT_INVALID, code="invalid")
        return Contact(PortalLink.Channel.EMAIL, text.lower())
    digits = re.sub(r"\D", "", text)
    if re.search(r"[^\d\s()+.\-]", text) or not PHONE_MIN_DIGITS <= len(digits) <= 20:
        raise ValidationError(PORTAL_CONTACT_INVALID, code="invalid")
    return Contact(PortalLink.Channel.SMS, digits)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _count(key: str, timeout: int) -> int:
    """One more hit on a fixed-window counter in the cache, and the hits so far."""
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def _matching_patients(contact: Contact) -> list[Patient]:
    patients = Patient.objects.active()
    if contact.channel == PortalLink.Channel.EMAIL:
        patients = patients.filter(email__iexact=contact.value)
    else:
        match = Q(phone_digits=contact.value)
        if len(contact.value) >= PHONE_SUFFIX_DIGITS:
            match |= Q(phone_digits__endswith=contact.value)
        patients = patients.filter(match)
    return list(patients.order_by("pk")[:MATCHES_SENT])


def portal_link_send(
    *, contact: str, client_address: str | None, now: datetime, link_url: Callable[[str], str]
) -> int:
    """Send a sign-in link to each active patient whose e-mail or phone on file is `contact`.

    The caller shows PORTAL_SENT whatever this returns (the number of links sent, for tests and
    metrics only): whether the details matched anyone never shows. The limits that refuse with a
    message (per client address, per contact) count known and unknown details alike.
    """
    parsed = portal_contact_parse(contact)
    if _count(f"portal:address:{client_address or '-'}", ADDRESS_WINDOW_SECONDS) > REQUESTS_PER_ADDRESS:
        raise ValidationError(PORTAL_TOO_MANY_FROM_ADDRESS, code="rate_limited")
    contact_key = token_hash(f"{parsed.channel}:{parsed.value}")
    if _count(f"portal:contact:{contact_key}", 3600) > REQUESTS_PER_CONTACT_PER_HOUR:
        raise ValidationError(PORTAL_TOO_MANY_FOR_CONTACT, code="rate_limited")
    sent = 0
    for patient in _matching_patients(parsed):
        # Silent: saying so would tell that these details belong to a patient. Links the clinic sent
        # on its own (those with a next_path, e.g. the pre-visit questions) are not the patient's asking.
        recent = PortalLink.objects.filter(
            patient=patient, created_at__gt=now - timedelta(hours=1), next_path=""
        ).count()
        if recent >= LINKS_PER_PATIENT_PER_HOUR:
            continue
        token = secrets.token_urlsafe(32)
        link = PortalLink.objects.create(
            patient=patient,
            token_hash=token_hash(token),
            channel=parsed.channel,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.PORTAL_LINK_MINUTES),
        )
        try:
            _deliver(link, patient, link_url(token))
        except Exception as error:
            # A provider's failure must not answer 500 (nor tell that the details matched). Logged
            # with the link's id and the error's class only: the error's text may hold the address.
            logger.warning("portal link %s not delivered: %s", link.pk, type(error).__name__)
            continue
        sent += 1
    return sent


PORTAL_PATH_PREFIX = "/portal/"


def portal_next_path(path: str) -> str:
    """`path` if it is a page of the portal on this site ("/portal/..."), else "": never another
    host, a scheme, a protocol-relative "//host" or a backslash that a browser reads as one."""
    if (
        not path.startswith(PORTAL_PATH_PREFIX)
        or "\\" in path
        or any(ord(char) < 32 for char in path)
        or not url_has_allowed_host_and_scheme(path, allowed_hosts=None)
    ):
        return ""
    return path


def portal_link_issue(
    *, patient: Patient, channel: str, now: datetime, expires_at: datetime, next_path: str
) -> str:
    """A single-use sign-in link the clinic sends on its own (not asked for on /portal/), e.g. with
    the pre-visit questions: it lands on `next_path` once the birth date is confirmed, and works
    until `expires_at`. Returns the token, which only the message carries (the database keeps its
    hash). No rate limit: the caller decides when to send."""
    landing = portal_next_path(next_path)
    if not landing:
        raise ValueError(f"not a portal path: {next_path!r}")
    token = secrets.token_urlsafe(32)
    PortalLink.objects.create(
        patient=patient,
        token_hash=token_hash(token),
        channel=channel,
        created_at=now,
        expires_at=expires_at,
        next_path=landing,
    )
    return token


def portal_link_withdraw(*, token: str) -> None:
    """Delete a link that was issued but never delivered (nobody holds its token)."""
    PortalLink.objects.filter(token_hash=token_hash(token), used_at__isnull=True).delete()


def _deliver(link: PortalLink, patient: Patient, url: str) -> None:
    minutes = settings.PORTAL_LINK_MINUTES
    if link.channel == PortalLink.Channel.EMAIL:
        send_mail(
            "Your sign-in link",
            f"Hello {patient.first_name},\n\n"
            f"Open this link to see your treatment plan and sessions:\n{url}\n\n"
            f"It works once, within {minutes} minutes, and asks for your date of birth.\n"
            "If you did not ask for it, you can ignore this message.\n",
            None,
            [patient.email],
        )
    else:
        send_sms(patient.phone, f"Your clinic sign-in link (works once, for {minutes} min): {url}")


def _link_problem(link: PortalLink | None, now: datetime) -> ValidationError | None:
    if link is None or link.patient.is_archived:
        return ValidationError(PORTAL_LINK_UNKNOWN, code="unknown")
    if link.used_at is not None:
        return ValidationError(PORTAL_LINK_USED, code="used")
    if link.failed_attempts >= MAX_BIRTH_DATE_ATTEMPTS:
        return ValidationError(PORTAL_LINK_BURNT, code="burnt")
    if link.expires_at <= now:
        return ValidationError(PORTAL_LINK_EXPIRED, code="expired")
    return None


def portal_link_check(*, token: str, now: datetime) -> PortalLink:
    """The link if it can still sign someone in, else ValidationError (code unknown, used, burnt or
    expired) saying why."""
    link = PortalLink.objects.select_related("patient").filter(token_hash=token_hash(token)).first()
    problem = _link_problem(link, now)
    if problem is not None:
        raise problem
    assert link is not None
    return link


def _tries_left(failed: int) -> str:
    left = MAX_BIRTH_DATE_ATTEMPTS - failed
    return PORTAL_LAST_TRY if left == 1 else PORTAL_TRIES_LEFT.format(left=left)


def portal_link_redeem(*, token: str, birth_date: date, now: datetime) -> PortalAccount:
    """The patient's portal account once the birth date matches the link's patient; the link is then
    used. A wrong date counts against the link, which stops working after MAX_BIRTH_DATE_ATTEMPTS."""
    with transaction.atomic():
        # Locked: two tabs posting the same link at once cannot both sign in.
        link = (
            PortalLink.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(token_hash=token_hash(token))
            .first()
        )
        problem = _link_problem(link, now)
        account = None
        if problem is None:
            assert link is not None
            if link.patient.date_of_birth != birth_date:
                link.failed_attempts += 1
                link.save(update_fields=["failed_attempts"])
                burnt = link.failed_attempts >= MAX_BIRTH_DATE_ATTEMPTS
                problem = (
                    ValidationError(PORTAL_LINK_BURNT, code="burnt")
                    if burnt
                    else ValidationError(
                        f"{PORTAL_WRONG_BIRTH_DATE} {_tries_left(link.failed_attempts)}",
                        code="wrong_birth_date",
                    )
                )
            else:
                account = _account_for(link.patient)
                if not account.user.is_active:
                    problem = ValidationError(PORTAL_ACCOUNT_CLOSED, code="closed")
                else:
                    link.used_at = now
                    link.save(update_fields=["used_at"])
    # Raised outside the transaction, so that a wrong date's count is kept.
    if problem is not None:
        raise problem
    assert account is not None
    return account


def _account_for(patient: Patient) -> PortalAccount:
    account = PortalAccount.objects.select_related("user").filter(patient=patient).first()
    if account is not None:
        return account
    # An id and random letters: the username is written in the access log, a name never is.
    user = get_user_model()(username=f"portal-{patient.pk}-{secrets.token_hex(4)}")
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=PATIENT)[0])
    return PortalAccount.objects.create(patient=patient, user=user)
