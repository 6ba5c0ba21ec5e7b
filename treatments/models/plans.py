"""Accepted session plans, the clearances clinicians give, and the catalog revision plans cite."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from patients.models import BodyArea, MedicalCondition, Patient
from treatments.models.catalog import Treatment


class CatalogRevision(models.Model):
    """One row whose number goes up on every catalog change: plans cite it, caches key on it."""

    number = models.PositiveIntegerField(default=1)
    # A fresh stamp on every change: a cache keyed on it cannot mistake two catalogs for one,
    # even when a rolled-back transaction reused a number.
    stamp = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Catalog revision {self.number}"


class Clearance(models.Model):
    """A clinician's decision that a relative contraindication does not stop a treatment."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="clearances")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    condition = models.ForeignKey(MedicalCondition, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cleared_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-cleared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "treatment", "condition"],
                condition=Q(revoked_at__isnull=True),
                name="clearance_one_active",
            )
        ]

    def __str__(self):
        return f"{self.treatment} despite {self.condition}"


class Plan(models.Model):
    class Status(models.TextChoices):
        # Proposed by a clinician and sent to the patient to sign the consent online; accepted once
        # signed (treatments.services.consent). Never booked while it waits.
        AWAITING_CONSENT = "awaiting", "Waiting for the patient's consent"
        ACCEPTED = "accepted", "Accepted"
        SUPERSEDED = "superseded", "Replaced by a newer version"
        CLOSED = "closed", "Closed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACCEPTED)
    today = models.DateField(help_text="The date the suggestion was made for.")
    profile = models.JSONField(help_text="The profile the engine was given.")
    suggestion = models.JSONField(help_text="The engine's plan, as suggested.")
    chosen = models.JSONField(help_text="What the clinician accepted: options, adjustments, reasons.")
    catalog_revision = models.PositiveIntegerField()
    catalog_rules = models.JSONField(help_text="The catalog rows the plan was derived from, as they were.")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    # What the plan was derived from, kept whole (tens of kB): lists that show plans defer them.
    RECORD_FIELDS = ("profile", "suggestion", "chosen", "catalog_rules")

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="plan_unique_version"),
        ]

    def __str__(self):
        return f"Plan v{self.version} for patient {self.patient_id}"


class PlannedSession(models.Model):
    """One procedure of an accepted plan, in a visit window: what the front desk books."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="planned_sessions")
    visit = models.PositiveSmallIntegerField()
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    areas = models.ManyToManyField(BodyArea, related_name="+")
    session = models.PositiveSmallIntegerField(help_text="Number of this session in the treatment's series.")
    earliest = models.DateField()
    latest = models.DateField()

    class Meta:
        ordering = ["visit", "id"]

    def __str__(self):
        return f"Visit {self.visit}: {self.treatment} #{self.session}"
