from django.contrib import admin

from clinic.admin_mixins import CatalogAdmin
from patients.models import BodyArea, ConsentForm, MedicalCondition, SkinConcern


@admin.register(BodyArea)
class BodyAreaAdmin(CatalogAdmin):
    list_display = ("name", "slug", "parent", "surface_percent", "sort_order", "active", "customized")
    list_filter = ("active", "customized", "parent")
    search_fields = ("name", "slug")
    list_select_related = ("parent",)


@admin.register(SkinConcern)
class SkinConcernAdmin(CatalogAdmin):
    list_display = ("name", "slug", "active", "customized")
    list_filter = ("active", "customized")
    search_fields = ("name", "slug", "description")


@admin.register(MedicalCondition)
class MedicalConditionAdmin(CatalogAdmin):
    list_display = ("name", "slug", "kind", "area_specific", "active", "customized")
    list_filter = ("kind", "area_specific", "active", "customized")
    search_fields = ("name", "slug", "description")


@admin.register(ConsentForm)
class ConsentFormAdmin(CatalogAdmin):
    list_display = ("title", "slug", "version", "active")
    list_filter = ("active",)
    search_fields = ("title", "slug", "body")
