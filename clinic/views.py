from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK, user_roles


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
    return render(request, "clinic/dashboard.html", context)


@login_not_required
@require_GET
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
