from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import BodyArea, ConsentForm, MedicalCondition, Patient, PatientConsent
from treatments.engine.plan_choices import ItemChoice, chosen_plan
from treatments.engine.plan_results import Suggestion
from treatments.engine.profile_validation import Profile
from treatments.models import Clearance, Plan, PlanConsent, PlannedSession, Treatment
from treatments.selectors.plan_suggestions import CurrentCatalog

CONSENT_MISSING = "Record the signed consent “{title}” before accepting a plan with {treatment}."
CONSENT_FORM_MISSING = (
    "The catalog names consent form “{slug}” for {treatment}, but no active version exists."
)
PLAN_CHANGED = (
    "Plan version {version} was accepted by {who} at {when} while this page was open: "
    "review it before accepting another. Your choices are kept below."
)
PLAN_WITHDRAWN = "The plan this page would replace was closed meanwhile: review the patient before accepting."
NOTHING_CHOSEN = "Choose at least one treatment to accept a plan."
PLAN_NOT_OPEN = "Only the current accepted plan can be closed."
CLOSE_REASON_NEEDED = "Say why the plan is closed."
CLEARANCE_REASON_NEEDED = "A clearance needs a reason."
CLEARANCE_EXISTS = "This contraindication is already cleared for this treatment."


def rules_for_plan(
    catalog_data: dict[str, Any], profile: Profile, treatments: Collection[str]
) -> dict[str, Any]:
    """The catalog rows that decided this plan, kept with it so it can be explained later."""
    concerns = {item["concern"] for item in profile["concerns"]}
    conditions = {item["condition"] for item in profile["conditions"]}
    return {
        "treatments": [t for t in catalog_data["treatments"] if t["slug"] in treatments],
        "groups": catalog_data["groups"],
        "protocols": [p for p in catalog_data["protocols"] if p["concern"] in concerns],
        "contraindications": [r for r in catalog_data["contraindications"] if r["condition"] in conditions],
        "patient_rules": catalog_data["patient_rules"],
        "procedure_gaps": catalog_data["procedure_gaps"],
    }


def missing_consents(
    *,
    patient: Patient,
    treatments: Collection[str],
    catalog_data: dict[str, Any],
    plan_id: int | None = None,
) -> list[str]:
    """Messages for each chosen treatment whose consent form the patient has not signed.

    A paper consent (PatientConsent, not withdrawn) of the form's active version counts for every
    plan. `plan_id`: the plan version whose electronic consent (PlanConsent) also counts, for the
    forms it holds at their active version (None: paper ones only). A new plan version has no
    electronic consent of its own, so it asks again."""
    by_slug = {t["slug"]: t for t in catalog_data["treatments"]}
    signed = set(
        PatientConsent.objects.filter(
            patient=patient, withdrawn_on__isnull=True, form__active=True
        ).values_list("form__slug", flat=True)
    )
    active = list(ConsentForm.objects.filter(active=True).values_list("slug", "version", "title"))
    titles = {slug: title for slug, _, title in active}
    if plan_id is not None:
        signed |= signed_online(plan_id=plan_id, patient=patient, active={(s, v) for s, v, _ in active})
    problems = []
    for slug in sorted(treatments):
        form_slug = by_slug.get(slug, {}).get("consent_form")
        if not form_slug or form_slug in signed:
            continue
        name = by_slug[slug]["name"]
        if form_slug not in titles:
            problems.append(CONSENT_FORM_MISSING.format(slug=form_slug, treatment=name))
        else:
            problems.append(CONSENT_MISSING.format(title=titles[form_slug], treatment=name))
    return problems


def signed_online(*, plan_id: int, patient: Patient, active: Collection[tuple[str, str]]) -> set[str]:
    """The consent form slugs the patient signed online for this plan version, at a version that is
    still the active one (a form revised since asks again, as a paper consent of an old version does)."""
    consent = PlanConsent.objects.filter(plan_id=plan_id, patient=patient).values_list(
        "form_versions", flat=True
    )
    forms = consent.first() or []
    return {
        form["slug"]
        for form in forms
        if isinstance(form, dict) and (form.get("slug"), str(form.get("version"))) in active
    }


def _plan_changed(current: Plan | None) -> str:
    if current is None:
        return PLAN_WITHDRAWN
    who = current.accepted_by.get_full_name() or current.accepted_by.get_username()
    when = timezone.localtime(current.accepted_at)
    return PLAN_CHANGED.format(version=current.version, who=who, when=f"{when:%d %b %Y %H:%M}")


@transaction.atomic
def plan_accept(
    *,
    patient: Patient,
    today: date,
    profile: Profile,
    suggestion: Suggestion,
    choices: Sequence[ItemChoice],
    catalog: CurrentCatalog,
    replaces: int | None,
    by: User,
    awaiting_consent: bool = False,
) -> Plan:
    """Store an accepted plan and its planned sessions; it replaces the patient's current plan.

    `choices` has one choice per item of `suggestion`, each already passed by check_choice.
    `replaces` is the accepted plan the clinician saw when choosing (None: none): if another
    was accepted since, nothing is stored and the refusal says which, by whom and when.

    `awaiting_consent`: the plan is sent to the patient to sign its consent online instead
    (status AWAITING_CONSENT, treatments.services.consent accepts it once signed). It needs no
    consent on file yet, is never booked while it waits, and leaves the current accepted plan as it
    is. Either way, a plan still waiting for the patient's consent is replaced by the new one.
    """
    chosen = chosen_plan(suggestion, choices, catalog.engine)
    treatments = chosen.treatments
    if not treatments:
        raise ValidationError(NOTHING_CHOSEN)
    if not awaiting_consent:
        problems = missing_consents(patient=patient, treatments=treatments, catalog_data=catalog.data)
        if problems:
            raise ValidationError(problems)
    # Lock the patient row so two clinicians accepting at once cannot both become "current".
    Patient.objects.select_for_update().get(pk=patient.pk)
    current = (
        Plan.objects.filter(patient=patient, status=Plan.Status.ACCEPTED)
        .select_related("accepted_by")
        .first()
    )
    if (current.pk if current else None) != replaces:
        raise ValidationError(_plan_changed(current))
    waiting = list(
        Plan.objects.filter(patient=patient, status=Plan.Status.AWAITING_CONSENT).order_by("-version")
    )
    last_version = (
        Plan.objects.filter(patient=patient).order_by("-version").values_list("version", flat=True).first()
    )
    plan = Plan(
        patient=patient,
        version=(last_version or 0) + 1,
        previous=_previous(current, waiting),
        status=Plan.Status.AWAITING_CONSENT if awaiting_consent else Plan.Status.ACCEPTED,
        today=today,
        profile=profile,
        suggestion=suggestion.to_json(),
        chosen=chosen.to_json(),
        catalog_revision=catalog.revision,
        catalog_rules=rules_for_plan(catalog.data, profile, treatments),
        accepted_by=by,
    )
    replaced = [*waiting, *([current] if current is not None and not awaiting_consent else [])]
    for old in replaced:
        old.status = Plan.Status.SUPERSEDED
        old.save(update_fields=["status"])
    plan.full_clean(exclude=["previous"])
    plan.save()
    treatment_ids = dict(Treatment.objects.filter(slug__in=treatments).values_list("slug", "id"))
    area_ids = dict(BodyArea.objects.values_list("slug", "id"))
    for visit in chosen.visits:
        for procedure in visit.procedures:
            planned = PlannedSession.objects.create(
                plan=plan,
                visit=visit.number,
                treatment_id=treatment_ids[procedure.treatment],
                session=procedure.session,
                earliest=visit.earliest,
                latest=visit.latest,
            )
            planned.areas.set([area_ids[slug] for slug in procedure.areas])
    return plan


def _previous(current: Plan | None, waiting: Sequence[Plan]) -> Plan | None:
    """The version a new plan follows: the newest of the accepted plan and those waiting for the
    patient's consent (each version has one next version)."""
    newest = max([*waiting, *([current] if current else [])], key=lambda p: p.version, default=None)
    if newest is not None and Plan.objects.filter(previous=newest).exists():
        return None  # followed already (an older awaiting version was sent from it): no link
    return newest


@transaction.atomic
def plan_close(*, plan: Plan, reason: str, now: datetime) -> Plan:
    if plan.status != Plan.Status.ACCEPTED:
        raise ValidationError(PLAN_NOT_OPEN)
    if not reason.strip():
        raise ValidationError(CLOSE_REASON_NEEDED)
    plan.status = Plan.Status.CLOSED
    plan.closed_at = now
    plan.close_reason = reason.strip()
    plan.save(update_fields=["status", "closed_at", "close_reason"])
    return plan


@transaction.atomic
def clearance_give(
    *,
    patient: Patient,
    treatment: Treatment,
    condition: MedicalCondition,
    reason: str,
    by: User,
) -> Clearance:
    if not reason.strip():
        raise ValidationError(CLEARANCE_REASON_NEEDED)
    if Clearance.objects.filter(
        patient=patient, treatment=treatment, condition=condition, revoked_at__isnull=True
    ).exists():
        raise ValidationError(CLEARANCE_EXISTS)
    return Clearance.objects.create(
        patient=patient, treatment=treatment, condition=condition, reason=reason.strip(), cleared_by=by
    )


@transaction.atomic
def clearance_revoke(*, clearance: Clearance, now: datetime) -> Clearance:
    clearance.revoked_at = now
    clearance.save(update_fields=["revoked_at"])
    return clearance
