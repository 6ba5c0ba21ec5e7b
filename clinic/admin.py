from django.contrib import admin
from django.http import HttpRequest

from clinic.models import AccessLogEntry


@admin.register(AccessLogEntry)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the app and never edited."""

    list_display = ["at", "username", "kind", "object_id", "patient_id", "ip_address", "view_name"]
    list_filter = ["kind", ("at", admin.DateFieldListFilter), "username"]
    search_fields = ["=patient_id", "=username", "=object_id"]
    search_help_text = "A patient's id, a username or an object's id."
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AccessLogEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessLogEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccessLogEntry | None = None) -> bool:
        return False
