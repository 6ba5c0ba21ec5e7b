"""What a clinician records about a session: screening, procedure, aftercare, signature, addenda,
photos and outcome scores. Every change is kept as history; a signed record is locked."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from patients.models import BodyArea, Concern
from treatments.models.scheduling import Appointment


class PrivateStorage(FileSystemStorage):
    """Files under MEDIA_ROOT with no public URL: they are served only by permission-checked views."""

    def url(self, name):
        raise ValueError("Private files have no public address; serve them through a view.")


private_storage = PrivateStorage()


class SessionRecord(models.Model):
    """The clinical record of one session. `screening` holds the answers as asked, `values` the
    procedure fields the treatment's catalog entry lists, `confirmations` the reasons given for
    values outside the safe ranges."""

    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="record")
    screening = models.JSONField(default=dict, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screened_at = models.DateTimeField(null=True, blank=True)
    stopped = models.BooleanField(default=False, help_text="Stopped at screening for a clinical reason.")
    stop_reasons = models.JSONField(default=list, blank=True)
    values = models.JSONField(default=dict, blank=True)
    confirmations = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    aftercare_given = models.JSONField(default=list, blank=True, help_text="The instructions given.")
    aftercare_given_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self):
        return f"Record of session {self.appointment_id}"

    @property
    def signed(self):
        return self.signed_at is not None


class Addendum(models.Model):
    """A correction or addition to a signed record: who, when, why."""

    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    reason = models.CharField(max_length=300)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Addendum to record {self.record_id}"


def photo_path(instance, filename):
    # A random name: nothing about the patient in the path, and no name collisions.
    suffix = PurePosixPath(filename).suffix.lower()
    return f"photos/{instance.appointment_id}/{uuid.uuid4().hex}{suffix}"


class SessionPhoto(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="photos")
    area = models.ForeignKey(BodyArea, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    image = models.ImageField(storage=private_storage, upload_to=photo_path)
    content_type = models.CharField(max_length=40)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["area__sort_order", "kind", "uploaded_at"]

    def __str__(self):
        return f"{self.get_kind_display()} photo of {self.area} (session {self.appointment_id})"


SCORE = [MinValueValidator(0), MaxValueValidator(10)]


class OutcomeScore(models.Model):
    """How much better a concern is at a session, 0 (no change) to 10 (resolved), as the clinician
    and as the patient judge it."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="outcomes")
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="outcomes")
    clinician_score = models.PositiveSmallIntegerField(validators=SCORE)
    patient_score = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["appointment__starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "concern"], name="outcome_one_per_session"),
            models.CheckConstraint(
                condition=models.Q(clinician_score__lte=10), name="outcome_clinician_score_range"
            ),
            models.CheckConstraint(
                condition=models.Q(patient_score__isnull=True) | models.Q(patient_score__lte=10),
                name="outcome_patient_score_range",
            ),
        ]

    def __str__(self):
        return f"Outcome for concern {self.concern_id} at session {self.appointment_id}"
