from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import patient_page, portal_pages, two_factor, views
from clinic.roles import refuse_patients, send_patients_home
from patients import intake_views
from patients import urls as patient_urls

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"
# Every admin page sends a non-member of staff to this login, which would greet a patient by their
# portal user name in the admin's layout.
admin.site.login = refuse_patients(admin.site.login)
handler403 = views.permission_denied

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health/", views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        send_patients_home(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        send_patients_home(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("accounts/2fa/setup/", send_patients_home(two_factor.setup), name="two_factor_setup"),
    path("accounts/2fa/verify/", send_patients_home(two_factor.verify), name="two_factor_verify"),
    path(
        "patients/",
        include(
            (
                [path("<int:pk>/", patient_page.patient_detail, name="detail"), *patient_urls.urlpatterns],
                patient_urls.app_name,
            )
        ),
    ),
    path("", include("treatments.urls")),
    path("intake/", intake_views.intake_enter, name="intake_enter"),
    path("intake/done/", intake_views.intake_done, name="intake_done"),
    path("intake/<str:token>/", intake_views.intake_fill, name="intake_fill"),
    path("portal/", include((portal_pages.urlpatterns, portal_pages.app_name))),
    path("admin/", admin.site.urls),
    path("api/", include("clinic.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
