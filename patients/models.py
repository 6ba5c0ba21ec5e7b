from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Replace
from simple_history.models import HistoricalRecords

from patients.querysets import PatientQuerySet

# --- Vocabularies ----------------------------------------------------------------------------


class Vocabulary(models.Model):
    slug = models.SlugField(
        max_length=60, unique=True, help_text="Stable identifier used by plans and the API."
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    customized = models.BooleanField(
        default=False, help_text="Edited by an admin: seed_catalog leaves this row as it is."
    )

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class BodyArea(Vocabulary):
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(default=0)
    children_partial = models.BooleanField(
        default=False,
        help_text="Its sub-areas do not cover all of it (the upper lip is only part of the perioral area): "
        "a plan that defers a sub-area keeps the rest of this area.",
    )
    surface_percent = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of an adult's body surface, in percent (Lund and Browder chart); empty: the sum "
        "of its sub-areas. Rules on the surface treated in one session (salicylism) read it.",
    )
    history = HistoricalRecords()

    class Meta(Vocabulary.Meta):
        ordering = ["sort_order", "name"]

    def clean(self):
        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "An area cannot be inside itself."})
            seen.add(node.pk)
            node = node.parent


class SkinConcern(Vocabulary):
    no_option_advice = models.TextField(
        blank=True, help_text="What the plan says when the catalog has nothing suitable (e.g. refer)."
    )
    history = HistoricalRecords()


class MedicalCondition(Vocabulary):
    class Kind(models.TextChoices):
        SKIN = "skin", "Skin condition"
        MEDICATION = "medication", "Medication"
        EVENT = "event", "Recent procedure or event"
        ALLERGY = "allergy", "Allergy"
        SYSTEMIC = "systemic", "Systemic condition"
        TRAIT = "trait", "Lasting trait"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    area_specific = models.BooleanField(default=False, help_text="Whether recording body areas makes sense.")
    intake_question = models.CharField(
        max_length=200,
        blank=True,
        help_text="How the intake questionnaire asks the patient (blank: not asked).",
    )
    measure_name = models.CharField(
        max_length=60, blank=True, help_text="A value recorded with it, e.g. platelet count (blank: none)."
    )
    measure_unit = models.CharField(max_length=20, blank=True, help_text="e.g. 10^9/L, g/dL.")
    history = HistoricalRecords()


class ConsentForm(models.Model):
    slug = models.SlugField(max_length=60)
    version = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    body = models.TextField()
    active = models.BooleanField(default=True, help_text="The version patients sign now.")
    customized = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="consentform_unique_version")]

    def __str__(self):
        return f"{self.title} (v{self.version})"


# --- Patients ----------------------------------------------------------------------------------

phone_validator = RegexValidator(
    r"^\+?[0-9(][0-9 ()\-.]{5,20}$",
    "Enter a phone number of digits, optionally starting with + (e.g. +1 212 555 0100).",
)


def _digits_only(field):
    expression = models.F(field)
    for char in (" ", "-", "(", ")", ".", "+"):
        expression = Replace(expression, Value(char), Value(""))
    return expression


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other / intersex"
        UNKNOWN = "unknown", "Not recorded"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=30, blank=True, validators=[phone_validator])
    phone_digits = models.GeneratedField(
        expression=_digits_only("phone"), output_field=models.CharField(max_length=30), db_persist=True
    )
    email = models.EmailField(blank=True)
    fitzpatrick = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        choices=[
            (n, f"Type {roman}") for n, roman in enumerate(["I", "II", "III", "IV", "V", "VI"], start=1)
        ],
        help_text="Fitzpatrick skin type, assessed by a clinician.",
    )
    preferred_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(
        blank=True, help_text="Front-desk notes (contact preferences). Not for clinical notes."
    )
    other_allergies = models.TextField(
        blank=True, help_text="Allergies not in the conditions list (clinical)."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at", "phone_digits"])

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["phone_digits"]),
            models.Index(fields=["email"]),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self):
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()

    @property
    def is_archived(self):
        return self.archived_at is not None


class ConditionRecord(models.Model):
    """A dated entry of a patient's medical history: a condition, medication, allergy or event."""

    class Source(models.TextChoices):
        CLINICIAN = "clinician", "Recorded by a clinician"
        INTAKE = "intake", "Intake questionnaire, reviewed"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    condition = models.ForeignKey(MedicalCondition, on_delete=models.PROTECT, related_name="+")
    areas = models.ManyToManyField(
        BodyArea, blank=True, related_name="+", help_text="Empty: the whole patient."
    )
    since = models.DateField(null=True, blank=True, help_text="Start, or the date of the event.")
    until = models.DateField(null=True, blank=True, help_text="End or stop date. Empty: ongoing.")
    value = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The measured value, for conditions that have one (e.g. the platelet count).",
    )
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CLINICIAN)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[areas])

    class Meta:
        ordering = ["-since", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(since__isnull=True) | Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="conditionrecord_until_after_since",
            )
        ]

    def __str__(self):
        return f"{self.condition} ({self.patient_id})"

    def clean(self):
        if self.since and self.until and self.until < self.since:
            raise ValidationError({"until": "The end date cannot be before the start date."})

    def is_ongoing(self, on_date):
        return self.until is None or self.until > on_date


class Concern(models.Model):
    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="concerns")
    concern = models.ForeignKey(SkinConcern, on_delete=models.PROTECT, related_name="+")
    areas = models.ManyToManyField(BodyArea, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MODERATE)
    goal = models.TextField(blank=True, help_text="The patient's goal, in their words.")
    note = models.CharField(max_length=200, blank=True, help_text="e.g. rolling and boxcar scars")
    resolved_at = models.DateField(null=True, blank=True, help_text="Closed: no longer planned for.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[areas])

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return str(self.concern)


class PatientConsent(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="+")
    treatment = models.SlugField(max_length=60, blank=True, help_text="The treatment it was signed for.")
    signed_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_on", "-id"]

    def __str__(self):
        return f"{self.form} signed {self.signed_on}"


class IntakeSubmission(models.Model):
    """What a patient answered on the intake questionnaire, waiting for a clinician's review."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        REVIEWED = "reviewed", "Reviewed"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="intakes")
    code = models.CharField(
        max_length=12, unique=True, help_text="Short code the patient types on the tablet."
    )
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()

    class Source(models.TextChoices):
        TABLET = "tablet", "Tablet at the clinic"
        PORTAL = "portal", "Patient portal"

    answers = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.TABLET)
    handed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["token", "code"])

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Intake {self.pk} ({self.get_status_display()})"


# --- Patient portal (docs/portal.md) -----------------------------------------------------------


class PortalAccount(models.Model):
    """The sign-in of a patient to the portal: a user with no password and no clinic role, made the
    first time the patient opens a sign-in link."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="portal_account")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_account"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Portal account of patient {self.patient_id}"


class PortalLink(models.Model):
    """A sign-in link sent to a patient. Only the SHA-256 of its token is kept: a copy of the table
    signs nobody in."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="portal_links")
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    # Where the patient lands once signed in (a portal path), e.g. a session's pre-visit questions.
    next_path = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self):
        return f"Portal link {self.pk} ({self.get_channel_display()})"
