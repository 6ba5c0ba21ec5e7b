"""The portal's sign-in URLs, under /portal/ (clinic/urls.py adds the pages that show the plan)."""

from django.urls import path

from patients import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.portal_start, name="start"),
    path("link/<str:token>/", portal_views.portal_link, name="link"),
    path("logout/", portal_views.portal_logout, name="logout"),
]
