"""Reads of patients' electronic consents (treatments.models.PlanConsent): the document a patient
reads and signs for a plan version, built once for the page and for the signature, and what staff
see of a signed one (docs/portal.md, "E-consent")."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from patients.models import ConsentForm
from treatments.models import Appointment, Plan, PlanConsent, PlannedSession, Treatment
from treatments.selectors.portal import PortalPlan, portal_plan

# The patient's statement above the signature: part of the document, so it is signed too.
DECLARATION = (
    "By signing, I confirm that I have read this document, that I could ask the clinic my questions "
    "before signing, and that I agree to the treatments of this plan as described above. I can "
    "withdraw my consent at any time before a session by telling the clinic."
)
NO_FORM = "The clinic has no consent text ready for {treatment} yet."


@dataclass(frozen=True, slots=True)
class Block:
    """A piece of the document: a heading ("h2", "h3"), a paragraph ("p") or a list ("ul")."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()

    def plain(self) -> str:
        if self.kind == "ul":
            return "\n".join(f"- {item}" for item in self.items)
        return self.text


@dataclass(frozen=True, slots=True)
class SignedForm:
    slug: str
    version: str
    title: str

    def as_json(self) -> dict[str, str]:
        return {"slug": self.slug, "version": self.version, "title": self.title}


@dataclass(frozen=True, slots=True)
class ConsentDocument:
    """What the patient reads and signs for one plan version: its text is `blocks` written out
    (`text`), stored whole with the signature; `digest` is its SHA-256."""

    plan: PortalPlan
    blocks: tuple[Block, ...]
    forms: tuple[SignedForm, ...]
    missing: tuple[str, ...]  # why it cannot be signed now: a treatment's form has no active version

    @property
    def text(self) -> str:
        return "\n\n".join(block.plain() for block in self.blocks)

    @property
    def digest(self) -> str:
        return document_hash(self.text)


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _visit_line(number: int, earliest: date, latest: date) -> str:
    if earliest == latest:
        return f"Visit {number}: on or soon after {_long_date(earliest)}"
    return f"Visit {number}: between {earliest.day} {earliest:%B} and {_long_date(latest)}"


def _plan_blocks(plan: PortalPlan) -> list[Block]:
    """The plan in plain words, as the portal's home page tells it (treatments.selectors.portal)."""
    blocks = [Block("h2", f"Your plan (version {plan.version})")]
    for treatment in plan.treatments:
        blocks.append(Block("h3", treatment.name))
        where = f"On the {', '.join(treatment.areas).lower()}: " if treatment.areas else ""
        plural = "s" if treatment.sessions != 1 else ""
        spacing = f", {treatment.spacing}" if treatment.spacing else ""
        blocks.append(Block("p", f"{where}{treatment.sessions} session{plural}{spacing}."))
        blocks.append(
            Block("ul", items=tuple(_visit_line(v.number, v.earliest, v.latest) for v in treatment.visits))
        )
        if treatment.pre_care:
            blocks += [Block("p", "Before each session:"), Block("ul", items=treatment.pre_care)]
        if treatment.aftercare:
            blocks += [Block("p", "After each session:"), Block("ul", items=treatment.aftercare)]
    return blocks


def _paragraphs(body: str) -> list[Block]:
    text = body.replace("\r\n", "\n").strip()
    return [Block("p", part.strip()) for part in text.split("\n\n") if part.strip()]


def plan_forms(plan_id: int) -> tuple[list[ConsentForm], list[str]]:
    """(the active consent forms of the plan's treatments, components of a combination included, in
    the plan's order; the treatments whose form has no active version): three queries."""
    slugs = list(
        dict.fromkeys(
            PlannedSession.objects.filter(plan_id=plan_id)
            .order_by("visit", "session", "id")
            .values_list("treatment__slug", flat=True)
        )
    )
    treatments = {
        t.slug: t
        for t in Treatment.objects.filter(slug__in=slugs)
        .select_related("consent_form")
        .prefetch_related("components__consent_form")
    }
    wanted: dict[str, str] = {}  # form slug -> the treatment that needs it
    for slug in slugs:
        treatment = treatments[slug]
        for each in (treatment, *sorted(treatment.components.all(), key=lambda c: c.name)):
            if each.consent_form is not None:
                wanted.setdefault(each.consent_form.slug, each.name)
    active: dict[str, ConsentForm] = {}
    # The newest active version of each form (an admin may leave two active by mistake).
    for form in ConsentForm.objects.filter(slug__in=wanted, active=True).order_by("pk"):
        active[form.slug] = form
    missing = [NO_FORM.format(treatment=name) for slug, name in wanted.items() if slug not in active]
    return [active[slug] for slug in wanted if slug in active], missing


def consent_document(plan: Plan) -> ConsentDocument | None:
    """The document of a plan version as its patient reads and signs it, or None (no such plan)."""
    plain = portal_plan(plan.patient_id, plan.pk)
    if plain is None:
        return None
    patient = plan.patient
    forms, missing = plan_forms(plan.pk)
    blocks = [
        Block("h2", "Consent to your treatment plan"),
        Block(
            "p",
            f"Patient: {patient.first_name} {patient.last_name}, born {_long_date(patient.date_of_birth)}.\n"
            f"Plan version {plan.version}, proposed on {_long_date(timezone.localtime(plan.accepted_at).date())}.",
        ),
        *_plan_blocks(plain),
    ]
    for form in forms:
        blocks.append(Block("h2", f"{form.title} (version {form.version})"))
        blocks.extend(_paragraphs(form.body))
    blocks += [Block("h2", "Your consent"), Block("p", DECLARATION)]
    return ConsentDocument(
        plan=plain,
        blocks=tuple(blocks),
        forms=tuple(SignedForm(f.slug, f.version, f.title) for f in forms),
        missing=tuple(missing),
    )


@dataclass(frozen=True, slots=True)
class AwaitingPlan:
    pk: int
    version: int
    sent_at: datetime


def awaiting_plans(patient_id: int) -> list[AwaitingPlan]:
    """The patient's plans waiting for their consent, newest first: one query."""
    rows = (
        Plan.objects.filter(patient_id=patient_id, status=Plan.Status.AWAITING_CONSENT)
        .order_by("-version")
        .values_list("pk", "version", "accepted_at")
    )
    return [AwaitingPlan(pk, version, sent) for pk, version, sent in rows]


@dataclass(frozen=True, slots=True)
class SignedConsent:
    plan_pk: int
    plan_version: int
    plan_status: str
    signed_at: datetime


def signed_consents(patient_id: int) -> list[SignedConsent]:
    """The patient's electronic consents, newest first: one query."""
    rows = (
        PlanConsent.objects.filter(patient_id=patient_id)
        .order_by("-signed_at")
        .values_list("plan_id", "plan__version", "plan__status", "signed_at")
    )
    return [SignedConsent(*row) for row in rows]


def consent_summary(consent: PlanConsent) -> dict[str, Any]:
    """What a clinician reads of a signed consent: who, when, which plan version and texts, the
    document's fingerprint and where it was signed from, and the addresses of the signature image and
    the whole document (both clinician-only)."""
    return {
        "typed_name": consent.typed_name,
        "signed_at": consent.signed_at,
        "plan_pk": consent.plan_id,
        "plan_version": consent.plan.version,
        "forms": [f for f in consent.form_versions if isinstance(f, dict)],
        "hash": consent.document_hash,
        "hash_short": consent.document_hash[:12],
        "client_address": consent.client_address or "",
        "user_agent": consent.user_agent,
        "signature_url": reverse("treatments:plan_consent_signature", args=[consent.plan_id]),
        "document_url": reverse("treatments:plan_consent", args=[consent.plan_id]),
    }


def consent_for_session(session: Appointment) -> dict[str, Any] | None:
    """What the session's record page shows of the consent the patient signed for its plan."""
    if session.plan_id is None:
        return None
    consent = (
        PlanConsent.objects.filter(plan_id=session.plan_id, patient_id=session.patient_id)
        .select_related("plan")
        .defer("document", "plan__profile", "plan__suggestion", "plan__chosen", "plan__catalog_rules")
        .first()
    )
    return consent_summary(consent) if consent is not None else None
