"""Patients waiting for an earlier slot, each inside the window their plan allows."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from patients.models import BodyArea, Patient
from treatments.models.catalog import Treatment
from treatments.models.plans import PlannedSession
from treatments.models.scheduling import Appointment, Location, Practitioner


class WaitlistEntry(models.Model):
    """A patient who would take a freed slot for one treatment between two dates.

    For a plan visit the treatment, areas and window come from the planned session; otherwise the
    front desk gives them. Preferences narrow which freed slots are offered.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked"
        REMOVED = "removed", "Removed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist_entries")
    planned_session = models.ForeignKey(
        PlannedSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_entries"
    )
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    areas = models.ManyToManyField(BodyArea, related_name="+")
    earliest = models.DateField()
    latest = models.DateField()
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty: any practitioner who does the treatment.",
    )  # fmt: skip
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty: any location.",
    )  # fmt: skip
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    booked_session = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[areas])

    class Meta:
        ordering = ["latest", "added_at"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["status", "earliest", "latest"])]
        constraints = [
            models.CheckConstraint(condition=Q(earliest__lte=F("latest")), name="waitlist_window_ordered"),
            # One waiting entry per plan visit: two desks adding the same visit at once get one.
            models.UniqueConstraint(
                fields=["planned_session"],
                condition=Q(status="waiting", planned_session__isnull=False),
                name="waitlist_one_waiting_entry_per_planned_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.treatment} ({self.earliest} to {self.latest})"
