from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from clinic.api_permissions import IsClinician
from patients.models import Patient
from treatments.selectors.plan_suggestions import current_catalog, suggest, suggest_for_patient, validate


@extend_schema(
    request=OpenApiTypes.OBJECT,
    responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    description="Suggest a session plan for a profile (shared/domain/plan-api.md). Nothing is stored.",
)
@api_view(["POST"])
@permission_classes([IsClinician])
def suggest_plan(request):
    profile = request.data
    if isinstance(profile, dict) and "today" not in profile:
        profile = {**profile, "today": timezone.localdate().isoformat()}
    catalog = current_catalog()
    problems = validate(profile, catalog)
    if problems:
        return Response({"errors": problems}, status=400)
    return Response(suggest(profile, catalog).to_json())


@extend_schema(responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([IsClinician])
def patient_suggestion(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    found = suggest_for_patient(patient, today=timezone.localdate())
    if found.suggestion is None:
        return Response({"errors": found.problems}, status=400)
    return Response(found.suggestion.to_json())
