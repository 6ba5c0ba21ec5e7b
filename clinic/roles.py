"""The clinic's roles: Django groups, what each may do, and the checks views use."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

CLINICIAN = "clinician"
FRONT_DESK = "front_desk"
CLINIC_ADMIN = "clinic_admin"
ROLES = (CLINICIAN, FRONT_DESK, CLINIC_ADMIN)
# A patient signed in to the portal (patients.models.PortalAccount): deliberately not in ROLES, so
# every staff view, the dashboard and the API refuse it as they refuse an account without a role.
PATIENT = "patient"

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


def user_roles(user):
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_clinic_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._clinic_roles = cached
    return cached


def has_role(user, *roles):
    return bool(user_roles(user) & set(roles))


def role_required(*roles):
    """Allow the view to users holding any of `roles`; others get the polite no-access page (403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                return render(request, "clinic/no_access.html", {"needed": roles}, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_role(user, *roles):
    if not has_role(user, *roles):
        raise PermissionDenied


def roles_context(request):
    roles = user_roles(getattr(request, "user", None)) if hasattr(request, "user") else frozenset()
    return {
        "user_roles": roles,
        "is_clinician": CLINICIAN in roles,
        "is_front_desk": FRONT_DESK in roles,
        "is_clinic_admin": CLINIC_ADMIN in roles,
    }
