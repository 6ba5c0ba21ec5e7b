from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK, user_roles
from treatments.models import Appointment, Practitioner
from treatments.selectors.availability import day_bounds


@require_GET
def dashboard(request):
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


@login_not_required
@require_GET
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def clinician_day(request):
    """The signed-in clinician's sessions today and their calendar feed address."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    if practitioner is None:
        return {}
    start, end = day_bounds(timezone.localdate(), timezone.localdate())
    sessions = (
        Appointment.objects.filter(practitioner=practitioner, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "treatment", "room")
        .order_by("starts_at")
    )
    feed = request.build_absolute_uri(reverse("treatments:practitioner_feed", args=[practitioner.feed_token]))
    return {"my_sessions": sessions, "feed_url": feed}
