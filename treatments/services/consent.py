"""A patient signs the consent of a plan version online (docs/portal.md, "E-consent").

Keyword-only, no request: the view passes the typed name, the drawn signature as PNG bytes, the
client's address and browser, the signed-in user and the clock.
"""

import io
import logging
import re
import uuid
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image, UnidentifiedImageError

from clinic.sms import send_sms
from patients.models import Patient, PortalLink
from patients.portal_services import portal_link_issue, portal_link_withdraw
from treatments.models import Plan, PlanConsent
from treatments.selectors.consent import consent_document
from treatments.selectors.plan_suggestions import current_catalog
from treatments.services.plans import missing_consents

logger = logging.getLogger(__name__)

NAME_MISMATCH = (
    "The name you typed does not match the name the clinic has for you ({name}). "
    "Please type your first and last name."
)
SIGNATURE_EMPTY = "Please draw your signature in the box."
SIGNATURE_UNREADABLE = "Your signature could not be read. Please clear the box and sign again."
DOCUMENT_CHANGED = (
    "The clinic changed this document while you were reading it. Please read it again, then sign."
)
ALREADY_SIGNED = "You have already signed the consent for this plan."
PLAN_REPLACED = (
    "The clinic has changed your plan since this page was opened, so this version can no longer be "
    "signed. Please go back to your page to read the new version."
)
PLAN_NOT_WAITING = "This plan is not waiting for your consent. Please call the clinic if you have a question."
FORMS_NOT_READY = "This consent cannot be signed online yet. Please call the clinic."

# A phone's signature box at up to 4x pixel density is well under these.
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIDE = 4000
MIN_WIDTH, MIN_HEIGHT = 100, 40
MIN_INK_PIXELS = 60  # fewer dark pixels than a short stroke: a tap or an empty box


def same_name(typed: str, patient: Patient) -> bool:
    """Whether the typed name is the patient's first and last name, ignoring case and spaces."""

    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip().casefold()

    return norm(typed) == norm(f"{patient.first_name} {patient.last_name}")


def signature_check(png: bytes) -> tuple[int, int]:
    """The size of a drawn signature, or ValidationError: a PNG, of sane size, with ink on it."""
    if not png or len(png) > MAX_SIGNATURE_BYTES:
        raise ValidationError(SIGNATURE_EMPTY if not png else SIGNATURE_UNREADABLE, code="signature")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(png))
            if image.format != "PNG":
                raise ValidationError(SIGNATURE_UNREADABLE, code="signature")
            width, height = image.size
            if not (MIN_WIDTH <= width <= MAX_SIDE and MIN_HEIGHT <= height <= MAX_SIDE):
                raise ValidationError(SIGNATURE_UNREADABLE, code="signature")
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, Warning):
        raise ValidationError(SIGNATURE_UNREADABLE, code="signature") from None
    # Ink: dark and opaque pixels once laid on white (signature_pad draws on a transparent box).
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(background, image.convert("RGBA")).convert("L")
    ink = sum(flat.histogram()[:160])
    if ink < MIN_INK_PIXELS:
        raise ValidationError(SIGNATURE_EMPTY, code="signature")
    return width, height


def refusal_reason(plan: Plan) -> str:
    if plan.status == Plan.Status.ACCEPTED and PlanConsent.objects.filter(plan=plan).exists():
        return ALREADY_SIGNED
    if plan.status == Plan.Status.SUPERSEDED:
        return PLAN_REPLACED
    return PLAN_NOT_WAITING


@transaction.atomic
def plan_consent_sign(
    *,
    plan: Plan,
    typed_name: str,
    signature_png: bytes,
    shown_hash: str,
    client_address: str | None,
    user_agent: str,
    by: User,
    now: datetime,
) -> PlanConsent:
    """Store the patient's consent to a plan version waiting for it, and accept that version.

    `shown_hash` is the SHA-256 of the document the page showed: if the document reads otherwise
    now (a form or a care text changed meanwhile), nothing is stored (code "changed"). Under a lock
    on the patient's row, so two tabs signing at once store one consent and the second is told it
    is signed already; the plan must still be waiting (not replaced by a newer version).
    """
    patient = Patient.objects.select_for_update().get(pk=plan.patient_id)
    if not same_name(typed_name, patient):
        raise ValidationError(
            {"typed_name": [NAME_MISMATCH.format(name=f"{patient.first_name} {patient.last_name}")]}
        )
    signature_check(signature_png)
    plan = Plan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
    if plan.status != Plan.Status.AWAITING_CONSENT:
        raise ValidationError(refusal_reason(plan), code="refused")
    if Plan.objects.filter(
        patient=patient,
        version__gt=plan.version,
        status__in=[Plan.Status.ACCEPTED, Plan.Status.AWAITING_CONSENT],
    ).exists():
        raise ValidationError(PLAN_REPLACED, code="refused")
    document = consent_document(plan)
    if document is None or document.missing:
        raise ValidationError(FORMS_NOT_READY, code="refused")
    if document.digest != shown_hash:
        raise ValidationError(DOCUMENT_CHANGED, code="changed")
    consent = PlanConsent(
        plan=plan,
        patient=patient,
        form_versions=[form.as_json() for form in document.forms],
        document=document.text,
        document_hash=document.digest,
        typed_name=re.sub(r"\s+", " ", typed_name).strip(),
        signed_at=now,
        client_address=client_address or None,
        user_agent=user_agent[: PlanConsent._meta.get_field("user_agent").max_length],
        signed_by=by,
    )
    consent.signature.save(f"{uuid.uuid4().hex}.png", ContentFile(signature_png), save=False)
    try:
        with transaction.atomic():
            consent.save()
    except IntegrityError:
        consent.signature.delete(save=False)
        raise ValidationError(ALREADY_SIGNED, code="refused") from None
    treatments = set(plan.planned_sessions.values_list("treatment__slug", flat=True))
    problems = missing_consents(
        patient=patient, treatments=treatments, catalog_data=current_catalog().data, plan_id=plan.pk
    )
    if problems:
        # The rule of every accepted plan: the consents its treatments need are on file.
        consent.signature.delete(save=False)
        raise ValidationError(FORMS_NOT_READY, code="refused")
    for current in Plan.objects.select_for_update().filter(patient=patient, status=Plan.Status.ACCEPTED):
        current.status = Plan.Status.SUPERSEDED
        current.save(update_fields=["status"])
    plan.status = Plan.Status.ACCEPTED
    plan.accepted_at = now
    plan.save(update_fields=["status", "accepted_at"])
    return consent


INVITE_SUBJECT = "Your treatment plan is ready to read and sign"


def plan_consent_invite(*, plan: Plan, now: datetime, link_url: Callable[[str], str]) -> bool:
    """Tell the patient a plan waits for their consent: a single-use sign-in link that lands on the
    consent page, by e-mail, else by text message. The message names no treatment (an inbox or a
    phone's lock screen is not private). Returns whether it was handed to the mail server or the
    SMS provider; a failure withdraws the link and the patient can still ask one on /portal/."""
    patient = plan.patient
    channel = PortalLink.Channel.EMAIL if patient.email else PortalLink.Channel.SMS
    hours = settings.PORTAL_INVITE_HOURS
    token = portal_link_issue(
        patient=patient,
        channel=channel,
        now=now,
        expires_at=now + timedelta(hours=hours),
        next_path=reverse("portal:consent", args=[plan.pk]),
    )
    url = link_url(token)
    days = f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"
    try:
        if channel == PortalLink.Channel.EMAIL:
            send_mail(
                INVITE_SUBJECT,
                f"Hello {patient.first_name},\n\n"
                "The clinic has prepared your treatment plan. Open this link to read it and sign the "
                f"consent:\n{url}\n\n"
                f"It works once, within {days}, and asks for your date of birth. After that you can "
                "ask for a new link on the clinic's patient page.\n",
                None,
                [patient.email],
            )
        else:
            send_sms(patient.phone, f"Your treatment plan is ready to sign (link works once, {days}): {url}")
    except Exception as error:
        # Logged with the plan's id and the error's class only: the error's text may hold the address.
        logger.warning("consent invitation for plan %s not delivered: %s", plan.pk, type(error).__name__)
        portal_link_withdraw(token=token)
        return False
    return True
