from django.conf import settings
from django.db import models

# Roles are auth groups (see roles.py); the one table of the project package is the access log.


class AccessLogEntry(models.Model):
    """Who looked at which patient's clinical data, when and from where: ids only, never content.

    Append-only: PostgreSQL refuses UPDATE and DELETE on this table (migration 0002), so neither
    the app nor an admin can rewrite what was seen. Retention: docs/security.md."""

    class Kind(models.TextChoices):
        PATIENT = "patient", "Patient page"
        HISTORY = "history", "Patient history"
        PLAN = "plan", "Plan"
        PLAN_BUILDER = "plan_builder", "Plan builder"
        RECORD = "record", "Session record"
        PHOTO = "photo", "Photo"
        AFTERCARE = "aftercare", "Aftercare sheet"
        SESSION = "session", "Session"
        API = "api", "API read"
        PORTAL = "portal", "Patient portal"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # No constraint: deleting a user must not rewrite the log, which keeps the id and the username.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(max_length=150)
    patient_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.CharField(max_length=40, blank=True)
    view_name = models.CharField(max_length=80)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient_id", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.username} · {self.get_kind_display()} {self.object_id} · {self.at:%Y-%m-%d %H:%M}"
