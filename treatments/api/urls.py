from django.urls import path

from treatments.api import plans

urlpatterns = [
    path("plans/suggest/", plans.suggest_plan, name="api-plan-suggest"),
    path("patients/<int:pk>/suggestion/", plans.patient_suggestion, name="api-patient-suggestion"),
]
