from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.http import require_GET

from clinic.outage import database_reachable, health_response
from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK, is_patient, staff_only, user_roles
from treatments.models import Appointment, Practitioner
from treatments.selectors.availability import day_bounds


@require_GET
def dashboard(request):
    if is_patient(request.user):
        return redirect("portal:home")  # a patient signed in to the portal, back at the root
    roles = user_roles(request.user)
    if not roles:
        return render(request, "clinic/no_access.html", {"needed": ()}, status=403)
    context = {
        "show_clinician": CLINICIAN in roles,
        "show_front_desk": FRONT_DESK in roles,
        "show_admin": CLINIC_ADMIN in roles,
    }
    if CLINICIAN in roles:
        context.update(clinician_day(request))
    return render(request, "clinic/dashboard.html", context)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: a patient refused a staff page gets the portal's page, not the staff error page."""
    user = getattr(request, "user", None)
    match = request.resolver_match
    if user is not None and is_patient(user) and (match is None or match.namespace != "portal"):
        return staff_only(request)
    return defaults.permission_denied(request, exception)


@login_not_required
@require_GET
def health(request):
    return health_response(reachable=database_reachable())


def clinician_day(request):
    """The signed-in clinician's sessions today and their calendar feed address."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    if practitioner is None:
        return {}
    start, end = day_bounds(timezone.localdate(), timezone.localdate())
    sessions = (
        Appointment.objects.filter(practitioner=practitioner)
        .between(start, end)
        .exclude(status=Appointment.Status.CANCELLED)
        .with_calendar_joins()
        .order_by("starts_at")
    )
    feed = request.build_absolute_uri(reverse("treatments:practitioner_feed", args=[practitioner.feed_token]))
    return {"my_sessions": sessions, "feed_url": feed}
