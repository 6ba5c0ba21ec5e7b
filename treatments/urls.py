from django.urls import path

from treatments import plan_views

app_name = "treatments"

urlpatterns = [
    path("patients/<int:pk>/plan/", plan_views.plan_builder, name="plan_builder"),
    path("patients/<int:pk>/clearances/", plan_views.clearance_create, name="clearance_create"),
    path("plans/<int:plan_pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_pk>/close/", plan_views.plan_close, name="plan_close"),
]
