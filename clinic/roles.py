"""The clinic's roles: Django groups, what each may do, and the checks views use."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

CLINICIAN = "clinician"
FRONT_DESK = "front_desk"
CLINIC_ADMIN = "clinic_admin"
ROLES = (CLINICIAN, FRONT_DESK, CLINIC_ADMIN)
# A patient signed in to the portal (patients.models.PortalAccount): deliberately not in ROLES, so
# every staff view, the dashboard and the API refuse it as they refuse an account without a role.
PATIENT = "patient"

View = Callable[..., HttpResponse]

ROLE_LABELS = {
    CLINICIAN: "Clinician",
    FRONT_DESK: "Front desk",
    CLINIC_ADMIN: "Clinic admin",
}

# Model permissions each role's group holds, as "app_label.action_model". Views check roles;
# these permissions drive the Django admin (clinic admins edit the catalog there).
CATALOG_MODELS = {
    "patients": ["bodyarea", "skinconcern", "medicalcondition", "consentform"],
    "treatments": [
        "source",
        "treatmentgroup",
        "consentform",
        "treatment",
        "protocol",
        "contraindicationrule",
        "patientrule",
        "proceduregap",
        "recordfield",
        "protocoldepth",
        "resourcetype",
        "location",
        "openinghours",
        "closure",
        "room",
        "device",
        "practitioner",
        "workinghours",
        "timeoff",
    ],
}


def _all_actions(app_label, models):
    return [
        f"{app_label}.{action}_{model}" for model in models for action in ("view", "add", "change", "delete")
    ]


ROLE_PERMISSIONS = {
    CLINICIAN: [],
    FRONT_DESK: [],
    CLINIC_ADMIN: [perm for app, models in CATALOG_MODELS.items() for perm in _all_actions(app, models)]
    + ["clinic.view_accesslogentry"],
}


def _clinic_groups(user) -> frozenset[str]:
    """The user's clinic roles and the patient role, in one query cached on the user."""
    cached = getattr(user, "_clinic_groups", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            cached = frozenset(user.groups.filter(name__in=(*ROLES, PATIENT)).values_list("name", flat=True))
        user._clinic_groups = cached
    return cached


def user_roles(user):
    if not user.is_authenticated:
        return frozenset()
    return _clinic_groups(user) - {PATIENT}


def is_patient(user) -> bool:
    """A patient signed in to the portal; a clinic role, should an account hold both, wins."""
    if not user.is_authenticated:
        return False
    groups = _clinic_groups(user)
    return PATIENT in groups and not groups & set(ROLES)


def has_role(user, *roles):
    return bool(user_roles(user) & set(roles))


def role_required(*roles):
    """Allow the view to users holding any of `roles`; others get the polite no-access page (403),
    a patient the portal's own (they never see the staff layout)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                if is_patient(request.user):
                    return staff_only(request)
                return render(request, "clinic/no_access.html", {"needed": roles}, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_only(request: HttpRequest) -> HttpResponse:
    """What a patient gets for a staff page: a portal page that says so and leads back to theirs."""
    return render(request, "portal/staff_only.html", status=403)


def refuse_patients(view: View) -> View:
    """For a staff page with no role check of its own: a patient gets `staff_only`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_patient(request.user):
            return staff_only(request)
        return view(request, *args, **kwargs)

    return wrapped


def send_patients_home(view: View) -> View:
    """For the pages any signed-in account may open (its password, its second factor): a patient has
    neither, and is sent to the portal's home as the dashboard sends them."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_patient(request.user):
            return redirect("portal:home")
        return view(request, *args, **kwargs)

    return wrapped


def require_role(user, *roles):
    if not has_role(user, *roles):
        raise PermissionDenied


def roles_context(request):
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else frozenset()
    return {
        "user_roles": roles,
        "is_clinician": CLINICIAN in roles,
        "is_front_desk": FRONT_DESK in roles,
        "is_clinic_admin": CLINIC_ADMIN in roles,
        "is_patient": user is not None and is_patient(user),
    }
