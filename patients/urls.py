from django.urls import path

from patients import intake_views, views

# The patient page itself composes both apps: clinic/urls.py adds it to this namespace.
app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/clinical/", views.clinical_profile_edit, name="clinical_edit"),
    path("<int:pk>/archive/", views.patient_archive, name="archive"),
    path("<int:pk>/history/", views.history_view, name="history"),
    path("<int:pk>/conditions/new/", views.condition_create, name="condition_create"),
    path("<int:pk>/conditions/<int:record_pk>/", views.condition_edit, name="condition_edit"),
    path("<int:pk>/concerns/new/", views.concern_create, name="concern_create"),
    path("<int:pk>/concerns/<int:concern_pk>/", views.concern_edit, name="concern_edit"),
    path("<int:pk>/consents/new/", views.consent_create, name="consent_create"),
    path("<int:pk>/intake/", views.intake_start, name="intake_start"),
    path("<int:pk>/intake/<int:intake_pk>/", views.intake_handout, name="intake_handout"),
    path("<int:pk>/intake/<int:intake_pk>/review/", intake_views.intake_review, name="intake_review"),
]
