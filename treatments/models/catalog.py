"""The treatment catalog that clinic admins edit in the Django admin; the plan engine reads it."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from patients.models import BodyArea, ConsentForm, MedicalCondition, SkinConcern
from treatments.engine.care import care_line_text
from treatments.engine.record_rules import NUMBER_KINDS, RANGE_LINKS, TEXT_LINKS, FieldKind, FieldLink

EVIDENCE_GRADES = [(g, g) for g in ("A", "A/B", "B", "B/C", "C", "C/D", "D")]
FITZPATRICK_TYPES = (1, 2, 3, 4, 5, 6)
DEPTH_MIN_MM, DEPTH_MAX_MM = 0.1, 3.0


class Severity(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute: do not treat"
    RELATIVE = "relative", "Relative: only with a clinician's clearance"
    PRECAUTION = "precaution", "Precaution: treat, with the precaution on the plan"


class CatalogRow(models.Model):
    """What every clinical row carries: where it comes from, and whether an admin changed it."""

    evidence = models.CharField(max_length=4, choices=EVIDENCE_GRADES, blank=True)
    sources = models.ManyToManyField("Source", blank=True, related_name="+")
    sources_disagree = models.BooleanField(
        default=False, help_text="The sources disagree; the seed holds the conservative default."
    )
    note = models.TextField(blank=True, help_text="Why this value (ranges in the sources, defaults chosen).")
    active = models.BooleanField(default=True)
    customized = models.BooleanField(
        default=False, help_text="Edited by an admin: seed_catalog leaves this row as it is."
    )

    class Meta:
        abstract = True


class Source(models.Model):
    key = models.CharField(max_length=40, unique=True)
    citation = models.TextField()
    url = models.URLField(max_length=500, blank=True)
    grade = models.CharField(max_length=10, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class ResourceType(models.Model):
    class Kind(models.TextChoices):
        ROOM = "room", "Room"
        DEVICE = "device", "Device"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class Treatment(CatalogRow):
    class Kind(models.TextChoices):
        MICRONEEDLING = "microneedling", "Microneedling"
        PRP = "prp", "PRP"
        PEEL = "peel", "Chemical peel"
        COMBINATION = "combination", "Combination"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    components = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="combinations",
        help_text="Parts of a combination.",
    )
    # A session is at most 10 h plus 2 h of clean-up: calendar queries rely on that bound.
    duration_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    buffer_minutes = models.PositiveIntegerField(
        default=15, validators=[MaxValueValidator(120)], help_text="Clean-up time after the session."
    )
    needs = models.ManyToManyField(ResourceType, blank=True, related_name="treatments")
    consent_form = models.ForeignKey(
        ConsentForm, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pre_care = models.TextField(blank=True, help_text="One instruction per line.")
    aftercare = models.TextField(blank=True, help_text="One instruction per line.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def pre_care_lines(self):
        return care_lines(self.pre_care)

    def aftercare_lines(self):
        return care_lines(self.aftercare)


def care_lines(text):
    """The instructions of a care field as the patient reads them, without their `[key]` tags."""
    return [care_line_text(line) for line in text.splitlines() if line.strip()]


class TreatmentGroup(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    members = models.ManyToManyField(Treatment, related_name="groups")
    history_condition = models.ForeignKey(
        MedicalCondition,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A session of a member done here counts in the patient's history as this event "
        "(e.g. Recent microneedling), so the rules on that event apply to the next sessions.",
    )
    customized = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Protocol(CatalogRow):
    concern = models.ForeignKey(SkinConcern, on_delete=models.PROTECT, related_name="protocols")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="protocols")
    areas = models.ManyToManyField(BodyArea, related_name="+", help_text="The treatment is for these areas.")
    sessions_min = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    sessions_default = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    sessions_max = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    interval_min_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    interval_typical_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    interval_max_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    fitzpatrick = models.JSONField(default=list, help_text="Skin types it suits, e.g. [1, 2, 3, 4].")
    preferred_fitzpatrick = models.JSONField(
        default=list, blank=True, help_text="Skin types it ranks higher for."
    )
    weight = models.FloatField(
        default=0, help_text="Ranking bonus (+) or penalty (-) on top of the evidence."
    )
    peel_agent = models.CharField(max_length=100, blank=True)
    concentration_min_pct = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    concentration_max_pct = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    concentration_by_fitzpatrick = models.JSONField(
        default=dict, blank=True, help_text='Overrides by skin type, e.g. {"5": {"min": 20, "max": 20}}.'
    )
    coats_min = models.PositiveSmallIntegerField(null=True, blank=True)
    coats_max = models.PositiveSmallIntegerField(null=True, blank=True)
    maintenance = models.TextField(
        blank=True, help_text="Shown on the option, e.g. one session every 3-6 months."
    )
    preparation_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days of skin preparation (priming) before the first session: the plan starts after them.",
    )
    option_note = models.TextField(
        blank=True, help_text="What the clinician should know about this option (e.g. limited effect)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["concern__name", "-weight", "treatment__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["concern", "treatment"], name="protocol_unique_concern_treatment"
            ),
            models.CheckConstraint(
                condition=Q(sessions_min__lte=models.F("sessions_default"))
                & Q(sessions_default__lte=models.F("sessions_max")),
                name="protocol_sessions_ordered",
            ),
            models.CheckConstraint(
                condition=Q(interval_min_days__lte=models.F("interval_typical_days"))
                & Q(interval_typical_days__lte=models.F("interval_max_days")),
                name="protocol_interval_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.treatment} for {self.concern}"

    def clean(self):
        errors = {}
        if None not in (self.sessions_min, self.sessions_default, self.sessions_max) and not (
            self.sessions_min <= self.sessions_default <= self.sessions_max
        ):
            errors["sessions_default"] = "Sessions must satisfy minimum ≤ default ≤ maximum."
        if None not in (self.interval_min_days, self.interval_typical_days, self.interval_max_days) and not (
            self.interval_min_days <= self.interval_typical_days <= self.interval_max_days
        ):
            errors["interval_typical_days"] = "Intervals must satisfy minimum ≤ typical ≤ maximum."
        for field in ("fitzpatrick", "preferred_fitzpatrick"):
            value = getattr(self, field)
            if not isinstance(value, list) or any(v not in FITZPATRICK_TYPES for v in value):
                errors[field] = "A list of skin types between 1 and 6, e.g. [1, 2, 3]."
        if not errors.get("fitzpatrick") and not self.fitzpatrick:
            errors["fitzpatrick"] = "List at least one skin type."
        _check_range(errors, "concentration_max_pct", self.concentration_min_pct, self.concentration_max_pct)
        _check_range(errors, "coats_max", self.coats_min, self.coats_max)
        if not _valid_by_fitzpatrick(self.concentration_by_fitzpatrick):
            errors["concentration_by_fitzpatrick"] = (
                'Keys are skin types "1"-"6", values {"min": number, "max": number} with min ≤ max.'
            )
        if errors:
            raise ValidationError(errors)


def _check_range(errors, field, low, high):
    if low is not None and high is not None and low > high:
        errors[field] = "The maximum cannot be below the minimum."


def _valid_days_by_fitzpatrick(value):
    return isinstance(value, dict) and all(
        key in {str(t) for t in FITZPATRICK_TYPES} and isinstance(days, int) and days > 0
        for key, days in value.items()
    )


def _valid_by_fitzpatrick(value):
    if not isinstance(value, dict):
        return False
    for key, bounds in value.items():
        if key not in {str(t) for t in FITZPATRICK_TYPES} or not isinstance(bounds, dict):
            return False
        low, high = bounds.get("min"), bounds.get("max")
        if not all(isinstance(v, int | float) for v in (low, high)) or low > high:
            return False
    return True


class ProtocolDepth(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="depths")
    area = models.ForeignKey(BodyArea, on_delete=models.PROTECT, related_name="+")
    min_mm = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(DEPTH_MIN_MM), MaxValueValidator(DEPTH_MAX_MM)],
        help_text="Needle depth, 0.1-3.0 mm.",
    )
    max_mm = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(DEPTH_MIN_MM), MaxValueValidator(DEPTH_MAX_MM)],
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["area__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "area"], name="protocoldepth_unique_area"),
            models.CheckConstraint(condition=Q(min_mm__lte=models.F("max_mm")), name="protocoldepth_ordered"),
        ]

    def __str__(self):
        return f"{self.area}: {self.min_mm}-{self.max_mm} mm"

    def clean(self):
        if self.min_mm is not None and self.max_mm is not None and self.min_mm > self.max_mm:
            raise ValidationError({"max_mm": "The maximum depth cannot be below the minimum."})


class TargetsTreatment(models.Model):
    """A rule that names either one treatment or a group of treatments."""

    treatment = models.ForeignKey(
        Treatment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        TreatmentGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def target(self):
        return self.treatment or self.group

    def clean_target(self, errors):
        if (self.treatment_id is None) == (self.group_id is None):
            errors["treatment"] = "Choose either a treatment or a group of treatments, not both."


def _one_target(prefix):
    return models.CheckConstraint(
        condition=Q(treatment__isnull=True, group__isnull=False)
        | Q(treatment__isnull=False, group__isnull=True),
        name=f"{prefix}_one_target",
    )


class ContraindicationRule(TargetsTreatment, CatalogRow):
    class Timing(models.TextChoices):
        ONGOING = "ongoing", "While the condition is ongoing"
        AFTER_END = "after_end", "While ongoing and for the window after it ends"
        AFTER_EVENT = "after_event", "For the window after the event's date"

    condition = models.ForeignKey(MedicalCondition, on_delete=models.PROTECT, related_name="rules")
    severity = models.CharField(max_length=12, choices=Severity.choices)
    timing = models.CharField(max_length=12, choices=Timing.choices, default=Timing.ONGOING)
    window_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Waiting window in days."
    )
    until_resolved = models.BooleanField(
        default=False, help_text="Defer until a clinician records the condition as resolved."
    )
    area_limited = models.BooleanField(
        default=False, help_text="Applies only where the condition's areas overlap the treated areas."
    )
    spread_to = models.ForeignKey(
        BodyArea,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A condition anywhere inside this area counts as covering all of it.",
    )
    text = models.TextField(help_text="What the clinician reads on the plan.")
    hold_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Preparation hold: the condition (a medication, tanning...) must have stopped this many "
        "days before a session; the plan starts the day after the hold.",
    )
    hold_days_by_fitzpatrick = models.JSONField(
        default=dict, blank=True, help_text='Hold overrides by skin type, e.g. {"4": 14, "5": 14, "6": 14}.'
    )
    lead_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Something to start this many days before each session (e.g. antiviral prophylaxis).",
    )
    lead_moves_start = models.BooleanField(
        default=False, help_text="The first session waits for the lead time (it is mandatory)."
    )
    pre_care = models.TextField(
        blank=True,
        help_text="A line added to the option's pre-care. {stop_by}: the day to stop by; {days}: the hold; "
        "{start_on}: the day to start (lead time).",
    )
    item_note = models.TextField(
        blank=True, help_text="A note for the whole concern when the rule limits an option (e.g. refer)."
    )
    value_below = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Measured conditions: applies only when the recorded value is below this "
        "(with no value recorded the rule applies as written).",
    )
    critical_below = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Below this value the rule is absolute, with the critical text.",
    )
    critical_text = models.TextField(
        blank=True, help_text="What the clinician reads when the value is critical."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["condition__name", "timing"]
        constraints = [
            _one_target("contraindication"),
            models.UniqueConstraint(
                fields=["condition", "treatment", "timing"],
                condition=Q(treatment__isnull=False),
                name="contraindication_unique_treatment",
            ),
            models.UniqueConstraint(
                fields=["condition", "group", "timing"],
                condition=Q(group__isnull=False),
                name="contraindication_unique_group",
            ),
        ]

    def __str__(self):
        return f"{self.condition} → {self.target} ({self.severity})"

    def clean(self):
        errors = {}
        self.clean_target(errors)
        if self.timing in (self.Timing.AFTER_END, self.Timing.AFTER_EVENT) and not self.window_days:
            errors["window_days"] = "This timing needs a waiting window in days."
        if self.timing == self.Timing.ONGOING and self.window_days:
            errors["window_days"] = "A window counts after the end or the event: choose that timing."
        if self.hold_days_by_fitzpatrick and not _valid_days_by_fitzpatrick(self.hold_days_by_fitzpatrick):
            errors["hold_days_by_fitzpatrick"] = (
                'Keys are skin types "1"-"6", values whole days, e.g. {"5": 14}.'
            )
        if self.hold_days_by_fitzpatrick and not self.hold_days:
            errors["hold_days"] = "Give the hold for every skin type first."
        if self.lead_moves_start and not self.lead_days:
            errors["lead_days"] = "Give the lead time in days."
        if (
            self.critical_below is not None
            and self.value_below is not None
            and self.critical_below > self.value_below
        ):
            errors["critical_below"] = "The critical value cannot be above the threshold."
        if self.critical_below is not None and not self.critical_text.strip():
            errors["critical_text"] = "Say what the clinician reads when the value is critical."
        if not errors and _duplicate_exists(self, condition=self.condition_id, timing=self.timing):
            errors["condition"] = "A rule for this condition, treatment and timing already exists."
        if errors:
            raise ValidationError(errors)


class PatientRule(TargetsTreatment, CatalogRow):
    class Fact(models.TextChoices):
        FITZPATRICK = "fitzpatrick", "Fitzpatrick skin type"
        AGE = "age", "Age in years"
        SURFACE = "surface", "Body surface treated in one session, in percent"

    fact = models.CharField(max_length=12, choices=Fact.choices)
    min_value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Inclusive; empty: no lower bound."
    )
    max_value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Inclusive; empty: no upper bound."
    )
    severity = models.CharField(max_length=12, choices=Severity.choices)
    text = models.TextField(
        help_text="For the clinician. A surface rule may write {percent} for the share treated."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["fact", "min_value"]
        constraints = [_one_target("patientrule")]

    def __str__(self):
        return f"{self.target}: {self.fact} {self.min_value}-{self.max_value} ({self.severity})"

    def clean(self):
        errors = {}
        self.clean_target(errors)
        if self.min_value is None and self.max_value is None:
            errors["min_value"] = "Give a lower bound, an upper bound or both."
        _check_range(errors, "max_value", self.min_value, self.max_value)
        if self.fact == self.Fact.FITZPATRICK:
            for field in ("min_value", "max_value"):
                value = getattr(self, field)
                if value is not None and value not in FITZPATRICK_TYPES:
                    errors[field] = "Skin types go from 1 to 6."
        if self.fact == self.Fact.SURFACE:
            for field in ("min_value", "max_value"):
                value = getattr(self, field)
                if value is not None and value > 100:
                    errors[field] = "A share of the body surface goes from 0 to 100 %."
        if not errors and _duplicate_exists(
            self, fact=self.fact, min_value=self.min_value, max_value=self.max_value
        ):
            errors["fact"] = "The same rule already exists."
        if errors:
            raise ValidationError(errors)


class ProcedureGap(CatalogRow):
    from_treatment = models.ForeignKey(
        Treatment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    from_group = models.ForeignKey(
        TreatmentGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_treatment = models.ForeignKey(
        Treatment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_group = models.ForeignKey(
        TreatmentGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    min_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    recommended_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    history = HistoricalRecords()

    class Meta:
        ordering = ["min_days"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_days__lte=models.F("recommended_days")), name="proceduregap_ordered"
            )
        ]

    def __str__(self):
        return f"{self.source_target} → {self.next_target}: {self.min_days} d"

    @property
    def source_target(self):
        return self.from_treatment or self.from_group

    @property
    def next_target(self):
        return self.to_treatment or self.to_group

    def clean(self):
        errors = {}
        if (self.from_treatment_id is None) == (self.from_group_id is None):
            errors["from_treatment"] = "Choose either a treatment or a group done first."
        if (self.to_treatment_id is None) == (self.to_group_id is None):
            errors["to_treatment"] = "Choose either a treatment or a group done after."
        _check_range(errors, "recommended_days", self.min_days, self.recommended_days)
        if not errors and _duplicate_exists(
            self,
            from_treatment=self.from_treatment_id,
            from_group=self.from_group_id,
            to_treatment=self.to_treatment_id,
            to_group=self.to_group_id,
        ):
            errors["from_treatment"] = "A gap between these procedures already exists."
        if errors:
            raise ValidationError(errors)


class RecordField(TargetsTreatment, CatalogRow):
    """One value the clinician records about each session of a treatment or group of treatments:
    how it is asked, what is accepted at all, and the safe range outside which a reason is needed."""

    class Kind(models.TextChoices):
        TEXT = FieldKind.TEXT.value, "Text"
        INTEGER = FieldKind.INTEGER.value, "Whole number"
        DECIMAL = FieldKind.DECIMAL.value, "Number with decimals"
        DATE = FieldKind.DATE.value, "Date"
        EXPIRY = FieldKind.EXPIRY.value, "Expiry date (refused when before the session's day)"
        CHOICE = FieldKind.CHOICE.value, "Choice from a list"
        YES_NO = FieldKind.YES_NO.value, "Yes or no"

    class Link(models.TextChoices):
        NONE = FieldLink.NONE.value, "Nothing"
        NEEDLE_DEPTH = (
            FieldLink.NEEDLE_DEPTH.value,
            "Safe range: the protocol's needle depth, one value per area",
        )
        PEEL_CONCENTRATION = (
            FieldLink.PEEL_CONCENTRATION.value,
            "Safe range: the protocol's peel concentration",
        )
        PEEL_COATS = FieldLink.PEEL_COATS.value, "Safe range: the protocol's number of coats"
        PEEL_AGENT = FieldLink.PEEL_AGENT.value, "Filled in with the protocol's peel agent"
        DEVICES = FieldLink.DEVICES.value, "Filled in with the session's devices"

    key = models.SlugField(
        max_length=60, help_text="The value's name in the stored record, e.g. passes. Keep it once in use."
    )
    label = models.CharField(max_length=120, help_text="What the form asks, without the unit.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    unit = models.CharField(max_length=20, blank=True, help_text="e.g. mm, mL, %, min.")
    choices = models.JSONField(
        default=list, blank=True, help_text='For a choice: [["value", "Label"], ...] in display order.'
    )
    required = models.BooleanField(default=True)
    min_value = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Numbers: the lowest accepted at all.",
    )
    max_value = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Numbers: the highest accepted at all.",
    )
    max_length = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Text: the longest answer."
    )
    safe_min = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Below it the clinician gives a reason (the protocol's range comes first when linked).",
    )
    safe_max = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Above it the clinician gives a reason (the protocol's range comes first when linked).",
    )
    linked_to = models.CharField(max_length=20, choices=Link.choices, blank=True)
    help_text = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Position on the form, smallest first.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "key"]
        constraints = [
            _one_target("recordfield"),
            models.UniqueConstraint(
                fields=["key", "treatment"],
                condition=Q(treatment__isnull=False),
                name="recordfield_unique_treatment",
            ),
            models.UniqueConstraint(
                fields=["key", "group"], condition=Q(group__isnull=False), name="recordfield_unique_group"
            ),
        ]

    def __str__(self):
        return f"{self.label} ({self.target})"

    def clean(self):
        errors = {}
        self.clean_target(errors)
        if self.key == "notes" or (self.key or "").startswith(RESERVED_KEY_PREFIXES):
            errors["key"] = "This name is used by the form itself: choose another."
        if self.kind == self.Kind.CHOICE and not _valid_choices(self.choices):
            errors["choices"] = 'List the answers as [["value", "Label"], ...], each value once.'
        elif self.kind != self.Kind.CHOICE and self.choices:
            errors["choices"] = "Only a choice field has a list of answers."
        numeric = self.kind in NUMBER_KINDS
        for field in ("min_value", "max_value", "safe_min", "safe_max"):
            if getattr(self, field) is not None and not numeric:
                errors[field] = "Only a number has a range."
        _check_range(errors, "max_value", self.min_value, self.max_value)
        _check_range(errors, "safe_max", self.safe_min, self.safe_max)
        if self.max_length is not None and self.kind != self.Kind.TEXT:
            errors["max_length"] = "Only text has a length."
        if self.linked_to in RANGE_LINKS and not numeric:
            errors["linked_to"] = "A safe range from the protocol needs a number field."
        if self.linked_to in TEXT_LINKS and self.kind != self.Kind.TEXT:
            errors["linked_to"] = "Only a text field is filled in this way."
        if not errors and _duplicate_exists(self, key=self.key):
            errors["key"] = "This field already exists for this treatment or group."
        if errors:
            raise ValidationError(errors)


# Form inputs the record page names itself: "notes", "depth_<area>", "confirm_<field>".
RESERVED_KEY_PREFIXES = ("depth_", "confirm_")


def _valid_choices(value):
    if not isinstance(value, list) or not value:
        return False
    pairs = [c for c in value if isinstance(c, list) and len(c) == 2 and all(isinstance(v, str) for v in c)]
    return len(pairs) == len(value) and len({v for v, _ in pairs}) == len(pairs) and all(v for v, _ in pairs)


def _duplicate_exists(row, **fields):
    lookup = dict(fields)
    if hasattr(row, "group_id") and "from_treatment" not in fields:
        lookup.update(treatment=row.treatment_id, group=row.group_id)
    return type(row).objects.filter(**lookup).exclude(pk=row.pk).exists()
