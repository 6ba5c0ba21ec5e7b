from django.urls import path

from treatments.api import plans, scheduling

urlpatterns = [
    path("plans/suggest/", plans.suggest_plan, name="api-plan-suggest"),
    path("patients/", scheduling.PatientList.as_view(), name="api-patients"),
    path("patients/search/", scheduling.PatientSearch.as_view(), name="api-patient-search"),
    path("patients/<int:pk>/suggestion/", plans.patient_suggestion, name="api-patient-suggestion"),
    path("practitioners/", scheduling.PractitionerList.as_view(), name="api-practitioners"),
    path("rooms/", scheduling.RoomList.as_view(), name="api-rooms"),
    path("devices/", scheduling.DeviceList.as_view(), name="api-devices"),
    path("treatments/", scheduling.TreatmentList.as_view(), name="api-treatments"),
    path("slots/", scheduling.SlotList.as_view(), name="api-slots"),
    path("sessions/", scheduling.Sessions.as_view(), name="api-sessions"),
    path("sessions/<int:pk>/", scheduling.SessionDetail.as_view(), name="api-session"),
    path("sessions/<int:pk>/cancel/", scheduling.SessionCancel.as_view(), name="api-session-cancel"),
    path("sessions/<int:pk>/move/", scheduling.SessionMove.as_view(), name="api-session-move"),
]
