"""What patients give through the portal (docs/portal.md): the consent they sign for a plan
version, and their answers to the day-of screening questions before a session."""

import uuid

from django.conf import settings
from django.db import models

from patients.models import Patient
from treatments.models.plans import Plan
from treatments.models.records import private_storage
from treatments.models.scheduling import Appointment


def signature_path(instance: "PlanConsent", filename: str) -> str:
    # A random name: nothing about the patient in the path.
    return f"signatures/{uuid.uuid4().hex}.png"


class PlanConsent(models.Model):
    """A patient's electronic consent to one plan version: the whole text they read (the plan in
    plain words and the catalog's consent forms, at their versions), its SHA-256, the typed name,
    the drawn signature, when, and from where. Never edited: a changed plan is a new version and
    asks again."""

    plan = models.OneToOneField(Plan, on_delete=models.PROTECT, related_name="consent")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plan_consents")
    form_versions = models.JSONField(help_text='The consent forms signed: [{"slug", "version", "title"}].')
    document = models.TextField(help_text="The text the patient read and signed, exactly.")
    document_hash = models.CharField(max_length=64, help_text="SHA-256 of the document, hex.")
    typed_name = models.CharField(max_length=200)
    signature = models.ImageField(storage=private_storage, upload_to=signature_path)
    signed_at = models.DateTimeField()
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self):
        return f"Consent to plan {self.plan_id}"


class PreVisitCheck(models.Model):
    """The day-of screening questions of one session, sent to the patient before it and answered
    on the phone; the clinician confirms the answers with the patient at the visit.

    `questions` are the catalog's checklist as it was sent, `answers` {condition slug: true for
    "yes"}; `stop` says whether the engine judged the answers to stop the session, `stop_reasons`
    why (clinical text: clinicians only)."""

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="previsit")
    questions = models.JSONField(default=list, blank=True)
    # Delivery of the request, claimed before sending as reminders are (services.previsit).
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    new_medications = models.CharField(max_length=500, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stop = models.BooleanField(default=False)
    stop_reasons = models.JSONField(default=list, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["stop", "answered_at"])]

    def __str__(self):
        return f"Pre-visit questions of session {self.appointment_id}"
