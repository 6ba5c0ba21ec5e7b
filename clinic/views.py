from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.outage import database_reachable, health_response
from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK, user_roles
from patients.models import PortalAccount
from treatments.models import Appointment, Practitioner
from treatments.selectors.availability import day_bounds


@require_GET
def dashboard(request):
    roles = user_roles(request.user)
    if not roles:
        if PortalAccount.objects.filter(user_id=request.user.pk).exists():
            return redirect("portal:home")  # a patient signed in to the portal, back at the root
        return render(request, "clinic/no_access.html", {"needed": ()}, status=403)
    context = {
        "show_clinician": CLINICIAN in roles,
        "show_front_desk": FRONT_DESK in roles,
        "show_admin": CLINIC_ADMIN in roles,
    }
    if CLINICIAN in roles:
        context.update(clinician_day(request))
    return render(request, "clinic/dashboard.html", context)


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
