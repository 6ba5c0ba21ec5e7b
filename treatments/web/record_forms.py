"""Forms for a session's record. The procedure form is built from the treatment's `record_fields`
in the catalog, with one depth per treated area and a reason field for each value that may go
outside its safe range."""

from decimal import Decimal

from django import forms
from django.core.validators import FileExtensionValidator

from treatments.engine import record_rules
from treatments.models import RECORD_FIELDS, SessionPhoto

YES_NO = [("no", "No"), ("yes", "Yes")]
GRADES = [("0", "0 none"), ("1", "1 mild"), ("2", "2 moderate"), ("3", "3 severe")]
ENDPOINTS = [
    ("erythema", "Uniform erythema"),
    ("pinpoint_bleeding", "Pinpoint bleeding"),
    ("other", "Other (see notes)"),
]
PRP_APPLICATION = [
    ("topical_with_microneedling", "Topical, with microneedling"),
    ("injection", "Injection"),
    ("both", "Topical and injection"),
]
FROST = [
    ("0", "None"),
    ("1", "Level I: erythema with streaky frost"),
    ("2", "Level II: white frost with erythema showing through"),
    ("3", "Level III: solid white frost"),
]
NEUTRALISED = [("yes", "Yes"), ("no", "No"), ("self", "Self-neutralising agent")]

# (kind, options) per record field; anything not listed as optional is required.
SPEC = {
    "device": ("text", {"max_length": 120}),
    "needle_lot": ("text", {"max_length": 60}),
    "needle_expiry": ("date", {}),
    "passes": ("int", {"min_value": 1, "max_value": 12}),
    "endpoint": ("choice", {"choices": ENDPOINTS}),
    "blood_volume_ml": ("decimal", {"min_value": Decimal("1"), "max_value": Decimal("120")}),
    "centrifuge_protocol": ("text", {"max_length": 120, "help_text": "e.g. 1500 g for 10 min, single spin"}),
    "prp_volume_ml": ("decimal", {"min_value": Decimal("0.5"), "max_value": Decimal("40")}),
    "prp_application": ("choice", {"choices": PRP_APPLICATION}),
    "agent": ("text", {"max_length": 100}),
    "concentration_pct": ("decimal", {"min_value": Decimal("1"), "max_value": Decimal("100")}),
    "ph": ("decimal", {"min_value": Decimal("0"), "max_value": Decimal("14"), "help_text": "If known."}),
    "layers": ("int", {"min_value": 1, "max_value": 10}),
    "contact_time_min": ("decimal", {"min_value": Decimal("0"), "max_value": Decimal("60")}),
    "frost_level": ("choice", {"choices": FROST}),
    "neutralised": ("choice", {"choices": NEUTRALISED}),
    "anaesthetic_product": ("text", {"max_length": 100, "help_text": "Leave empty if none was used."}),
    "anaesthetic_minutes": ("int", {"min_value": 0, "max_value": 120}),
    "serums": ("text", {"max_length": 200, "help_text": "Products applied; leave empty if none."}),
    "pain_score": ("int", {"min_value": 0, "max_value": 10, "help_text": "0 no pain, 10 worst imaginable."}),
    "erythema_grade": ("choice", {"choices": GRADES}),
    "oedema_grade": ("choice", {"choices": GRADES}),
}
OPTIONAL = {"ph", "anaesthetic_product", "anaesthetic_minutes", "serums"}
DEPTH = "needle_depth_mm"
CONFIRM = "Reason for going outside the safe range"


def _field(name, kind, options):
    options = {"label": RECORD_FIELDS[name], "required": name not in OPTIONAL, **options}
    if kind == "text":
        return forms.CharField(**options)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if kind == "int":
        return forms.IntegerField(**options)
    if kind == "decimal":
        return forms.DecimalField(max_digits=5, decimal_places=2, **options)
    choices = options.pop("choices")
    return forms.ChoiceField(choices=[("", "---------"), *choices], **options)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class ScreeningForm(forms.Form):
    """One yes/no per catalog question (none pre-answered), the fixed items, and one per precaution."""

    consent_confirmed = forms.BooleanField(
        label="The signed consent for this treatment is on file", required=False
    )
    photos_taken = forms.ChoiceField(
        label="Before-photos taken?",
        choices=[("yes", "Yes"), ("declined", "No: the patient declined")],
        widget=forms.RadioSelect,
    )
    new_medications = forms.CharField(
        label="New medications since the last visit",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Leave empty if none. Record any that matter as history too.",
    )

    def __init__(self, *args, questions, precautions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.precautions = precautions
        answer = forms.RadioSelect(attrs={"class": "form-check-input"})
        for question in questions:
            self.fields[f"q_{question['condition']}"] = forms.ChoiceField(
                label=question["question"], choices=YES_NO, widget=answer
            )
        for flag in precautions:
            self.fields[f"p_{flag['code']}"] = forms.ChoiceField(
                label=f"Precaution followed? {flag['text']}", choices=YES_NO, widget=answer
            )
        self.question_names = [name for name in self.fields if name.startswith(("q_", "p_"))]

    def answers(self):
        return {q["condition"]: self.cleaned_data[f"q_{q['condition']}"] == "yes" for q in self.questions}

    def precautions_followed(self):
        return {f["code"]: self.cleaned_data[f"p_{f['code']}"] == "yes" for f in self.precautions}


class ProcedureForm(forms.Form):
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, fields, depth_areas, limits, session_day, **kwargs):
        """depth_areas: [(slug, name)]; limits: the session's safe ranges (record_rules)."""
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.session_day = session_day
        self.area_names = dict(depth_areas)
        self.confirm_keys = {}
        notes = self.fields.pop("notes")
        for name in fields:
            if name == DEPTH:
                for slug, area in depth_areas:
                    bounds = (limits.get(DEPTH) or {}).get(slug) or {}
                    hint = f"Safe range {bounds['min']:g}-{bounds['max']:g} mm." if bounds.get("max") else ""
                    self.fields[f"depth_{slug}"] = forms.DecimalField(
                        label=f"Needle depth, {area} (mm)",
                        min_value=Decimal("0.1"),
                        max_value=Decimal("3.0"),
                        max_digits=3,
                        decimal_places=2,
                        help_text=hint,
                    )
                    self._confirm(f"{DEPTH}.{slug}", f"depth_{slug}")
            elif name in SPEC:
                kind, options = SPEC[name]
                self.fields[name] = _field(name, kind, dict(options))
                if name == "concentration_pct":
                    self._confirm("concentration_pct", name)
        self.fields["notes"] = notes

    def _confirm(self, key, value_field):
        name = f"confirm_{value_field}"
        self.fields[name] = forms.CharField(label=CONFIRM, required=False, max_length=300)
        self.confirm_keys[key] = (value_field, name)

    def clean_needle_expiry(self):
        expiry = self.cleaned_data.get("needle_expiry")
        if expiry and expiry < self.session_day:
            raise forms.ValidationError(f"This cartridge expired on {expiry:%d %b %Y}: use one in date.")
        return expiry

    def values(self):
        data = self.cleaned_data
        values = {}
        for name, value in data.items():
            if name == "notes" or name.startswith("confirm_") or value in (None, ""):
                continue
            if name.startswith("depth_"):
                values.setdefault(DEPTH, {})[name.removeprefix("depth_")] = _plain(value)
            else:
                values[name] = _plain(value)
        return values

    def confirmations(self):
        return {key: self.cleaned_data.get(confirm) or "" for key, (_, confirm) in self.confirm_keys.items()}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        problems = record_rules.out_of_range(self.values(), self.limits, area_names=self.area_names)
        for problem in record_rules.unconfirmed(problems, self.confirmations()):
            value_field, confirm = self.confirm_keys[problem.key]
            self.add_error(value_field, problem.message)
            self.add_error(confirm, "Give a reason to go outside the safe range, or correct the value.")
        return cleaned

    def confirm_field_names(self):
        return {confirm for _, confirm in self.confirm_keys.values()}

    @staticmethod
    def initial_from(values, *, confirmations, planned_depths, devices, limits):
        """Initial values from a stored record, or, before one exists, from the plan and session."""
        initial = {}
        for name, value in (values or {}).items():
            if name == DEPTH:
                initial.update({f"depth_{area}": mm for area, mm in value.items()})
            else:
                initial[name] = value
        for key, confirmation in (confirmations or {}).items():
            field = "depth_" + key.removeprefix(f"{DEPTH}.") if key.startswith(f"{DEPTH}.") else key
            initial[f"confirm_{field}"] = confirmation["reason"]
        if not values:
            initial.update({f"depth_{area}": mm for area, mm in planned_depths.items()})
            if devices:
                initial["device"] = ", ".join(devices)
            agent = (limits.get("peel") or {}).get("agent")
            if agent:
                initial["agent"] = agent
        return initial


class OutcomeForm(forms.Form):
    """A 0-10 improvement score per open concern, from the clinician and from the patient."""

    def __init__(self, *args, concerns, kept=None, **kwargs):
        """kept: {concern id: OutcomeScore} already recorded at this session."""
        super().__init__(*args, **kwargs)
        self.concerns = list(concerns)
        for pk, score in (kept or {}).items():
            self.initial.setdefault(f"clinician_{pk}", score.clinician_score)
            self.initial.setdefault(f"patient_{pk}", score.patient_score)
        for concern in self.concerns:
            label = f"{concern.concern.name}"
            self.fields[f"clinician_{concern.pk}"] = forms.IntegerField(
                label=f"{label}: clinician score", min_value=0, max_value=10, required=False
            )
            self.fields[f"patient_{concern.pk}"] = forms.IntegerField(
                label=f"{label}: patient's score", min_value=0, max_value=10, required=False
            )

    def clean(self):
        cleaned = super().clean()
        for concern in self.concerns:
            if (
                cleaned.get(f"patient_{concern.pk}") is not None
                and cleaned.get(f"clinician_{concern.pk}") is None
            ):
                self.add_error(f"clinician_{concern.pk}", "Give your score too.")
        return cleaned

    def scores(self):
        return {
            c: (self.cleaned_data.get(f"clinician_{c.pk}"), self.cleaned_data.get(f"patient_{c.pk}"))
            for c in self.concerns
        }


class SignForm(forms.Form):
    aftercare_given = forms.BooleanField(
        label="I gave the patient the aftercare instructions", required=False
    )


class AddendumForm(forms.Form):
    text = forms.CharField(label="Correction or addition", widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label="Why", max_length=300)


MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class PhotoForm(forms.Form):
    area = forms.ModelChoiceField(queryset=None, empty_label=None)
    kind = forms.ChoiceField(choices=SessionPhoto.Kind.choices)
    image = forms.ImageField(
        label="Photo (JPEG, PNG or WebP, up to 10 MB)",
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp"])],
    )

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas

    def clean_image(self):
        image = self.cleaned_data["image"]
        if image.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError("The photo is larger than 10 MB.")
        # Django's ImageField has opened the file with Pillow; trust its reading, not the upload's.
        found = getattr(getattr(image, "image", None), "format", None)
        if found not in PHOTO_FORMATS:
            raise forms.ValidationError("Upload a JPEG, PNG or WebP photo.")
        image.content_type = PHOTO_FORMATS[found]
        return image
