from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.roles import CLINICIAN, has_role, role_required
from patients.access import PATIENT_ROLES, get_patient
from patients.models import MedicalCondition
from treatments.engine import planning
from treatments.engine.plan_choices import check_choice, series_for
from treatments.models import Plan, Treatment
from treatments.selectors.plan_suggestions import current_catalog, suggest_for_patient
from treatments.services import plans
from treatments.web.plan_forms import NONE, default_option_index, parse_choices

CATALOG_CHANGED = (
    "The catalog or the patient's record changed since this page was opened: review the updated suggestion."
)


def _names(catalog):
    return {
        "treatments": {t["slug"]: t["name"] for t in catalog.data["treatments"]},
        "concerns": {c["slug"]: c["name"] for c in catalog.data["concerns"]},
        "conditions": {c["slug"]: c["name"] for c in catalog.data["conditions"]},
    }


def _render_builder(
    request, patient, *, profile, plan, problems, catalog, choices=None, errors=None, status=200
):
    items = plan["items"] if plan else []
    cleared = {(c["treatment"], c["condition"]) for c in profile.get("cleared", [])}
    for item in items:
        for option in item["options"]:
            # Relative contraindications a clinician may still clear for this option.
            option["clearable"] = sorted(
                {
                    flag["code"]
                    for flag in option["flags"]
                    if flag["severity"] == "relative" and (option["treatment"], flag["code"]) not in cleared
                }
            )
    rows = []
    for i, item in enumerate(items):
        choice = choices[i] if choices else None
        selected = choice.option_index if choice else default_option_index(item)
        rows.append(
            {
                "index": i,
                "item": item,
                "selected": NONE if selected is None else selected,
                "choice": choice,
                "errors": (errors or {}).get(i, []),
                "default": item["options"][selected] if selected is not None else None,
            }
        )
    context = {
        "patient": patient,
        "profile": profile,
        "plan": plan,
        "rows": rows,
        "problems": problems,
        "names": _names(catalog),
        "stamp": catalog.stamp,
        "current_plan": Plan.objects.filter(patient=patient, status=Plan.Status.ACCEPTED).first(),
    }
    return render(request, "treatments/plan_builder.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(CLINICIAN)
def plan_builder(request, pk):
    patient = get_patient(request, pk, clinical=True)
    today = timezone.localdate()
    catalog = current_catalog()
    profile, plan, problems = suggest_for_patient(patient, today=today)
    if request.method == "GET" or problems:
        return _render_builder(
            request, patient, profile=profile, plan=plan, problems=problems, catalog=catalog
        )

    if request.POST.get("stamp") != catalog.stamp or request.POST.get("profile_today") != profile["today"]:
        messages.warning(request, CATALOG_CHANGED)
        return _render_builder(request, patient, profile=profile, plan=plan, problems=[], catalog=catalog)

    choices, errors = parse_choices(request.POST, plan["items"])
    chosen, series = [], []
    for i, (item, choice) in enumerate(zip(plan["items"], choices, strict=True)):
        if choice.option_index is None or i in errors:
            continue
        option = item["options"][choice.option_index]
        item_problems = check_choice(option, choice)
        if item_problems:
            errors[i] = item_problems
            continue
        series.append(series_for(option, choice))
        chosen.append(
            {
                "concern": item["concern"],
                "concern_areas": item["areas"],
                "treatment": option["treatment"],
                "areas": option["areas"],
                "option": option,
                "sessions": series[-1]["sessions"],
                "interval_days": series[-1]["interval_days"],
                "depths": choice.depths,
                "reason": choice.reason.strip(),
                "acknowledged_flags": [flag["code"] for flag in option.get("flags", [])],
            }
        )
    if not errors:
        visits = planning.layout_visits(series, catalog.engine, today=profile["today"])
        try:
            accepted = plans.plan_accept(
                patient=patient,
                today=today,
                profile=profile,
                suggestion=plan,
                chosen=chosen,
                visits=visits,
                catalog=catalog,
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Plan version {accepted.version} accepted.")
            return redirect("treatments:plan_detail", plan_pk=accepted.pk)
    return _render_builder(
        request,
        patient,
        profile=profile,
        plan=plan,
        problems=[],
        catalog=catalog,
        choices=choices,
        errors=errors,
        status=400 if errors else 200,
    )


@require_POST
@role_required(CLINICIAN)
def clearance_create(request, pk):
    patient = get_patient(request, pk, clinical=True)
    treatment = get_object_or_404(Treatment, slug=request.POST.get("treatment", ""))
    condition = get_object_or_404(MedicalCondition, slug=request.POST.get("condition", ""))
    try:
        plans.clearance_give(
            patient=patient,
            treatment=treatment,
            condition=condition,
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{condition.name} cleared for {treatment.name}.")
    return redirect("treatments:plan_builder", pk=patient.pk)


def _get_plan(request, plan_pk):
    plan = get_object_or_404(Plan.objects.select_related("patient", "accepted_by"), pk=plan_pk)
    get_patient(request, plan.patient_id)
    return plan


@require_GET
@role_required(*PATIENT_ROLES)
def plan_detail(request, plan_pk):
    plan = _get_plan(request, plan_pk)
    planned = plan.planned_sessions.select_related("treatment").prefetch_related("areas")
    clinical = has_role(request.user, CLINICIAN)
    context = {"plan": plan, "patient": plan.patient, "planned": planned, "clinical": clinical}
    if clinical:
        catalog = current_catalog()
        context.update(names=_names(catalog), versions=plan.patient.plans.order_by("-version"))
    return render(request, "treatments/plan_detail.html", context)


@require_POST
@role_required(CLINICIAN)
def plan_close(request, plan_pk):
    plan = _get_plan(request, plan_pk)
    if not has_role(request.user, CLINICIAN):
        raise PermissionDenied
    try:
        plans.plan_close(plan=plan, reason=request.POST.get("reason", ""), now=timezone.now())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Plan closed.")
    return redirect("treatments:plan_detail", plan_pk=plan.pk)
