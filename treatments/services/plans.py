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
from treatments.models import Clearance, Plan, PlannedSession, Treatment
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
    `plan_id`: the plan version whose electronic consent also counts (None: paper ones only)."""
    by_slug = {t["slug"]: t for t in catalog_data["treatments"]}
    signed = set(
        PatientConsent.objects.filter(
            patient=patient, withdrawn_on__isnull=True, form__active=True
        ).values_list("form__slug", flat=True)
    )
    titles = dict(ConsentForm.objects.filter(active=True).values_list("slug", "title"))
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
) -> Plan:
    """Store an accepted plan and its planned sessions; it replaces the patient's current plan.

    `choices` has one choice per item of `suggestion`, each already passed by check_choice.
    `replaces` is the accepted plan the clinician saw when choosing (None: none): if another
    was accepted since, nothing is stored and the refusal says which, by whom and when.
    """
    chosen = chosen_plan(suggestion, choices, catalog.engine)
    treatments = chosen.treatments
    if not treatments:
        raise ValidationError(NOTHING_CHOSEN)
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
    last_version = (
        Plan.objects.filter(patient=patient).order_by("-version").values_list("version", flat=True).first()
    )
    plan = Plan(
        patient=patient,
        version=(last_version or 0) + 1,
        previous=current,
        today=today,
        profile=profile,
        suggestion=suggestion.to_json(),
        chosen=chosen.to_json(),
        catalog_revision=catalog.revision,
        catalog_rules=rules_for_plan(catalog.data, profile, treatments),
        accepted_by=by,
    )
    if current is not None:
        current.status = Plan.Status.SUPERSEDED
        current.save(update_fields=["status"])
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
