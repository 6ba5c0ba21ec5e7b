"""Forms for a session's record. The procedure form is built from the catalog's record fields for
the session's treatment (treatments.engine.record_rules.RecordFieldSpec): one input per field, one
per treated area for a per-area field (needle depth), and a reason input for each value that may
go outside its safe range."""

from decimal import Decimal

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.text import Truncator

from patients.forms import EditedSinceCheck
from treatments.engine import record_rules
from treatments.engine.record_rules import FieldKind, FieldLink
from treatments.models import SessionPhoto

YES_NO = [("no", "No"), ("yes", "Yes")]
EMPTY_CHOICE = ("", "---------")
DEPTH_PREFIX = "depth_"
CONFIRM_PREFIX = "confirm_"
CONFIRM = "Reason for going outside the safe range"
GIVE_A_REASON = "Give a reason to go outside the safe range, or correct the value."
EXPIRED = "This expired on {day:%d %b %Y}: use one in date."
SAVED_MEANWHILE = "Saved meanwhile: {entries}."


def field_label(spec):
    return f"{spec.label} ({spec.unit})" if spec.unit else spec.label


def _decimal(value):
    return None if value is None else Decimal(str(value))


def _whole(value):
    return None if value is None else int(value)


def _field(spec, *, label=None, help_text=None):
    options = {
        "label": label or field_label(spec),
        "required": spec.required,
        "help_text": spec.help_text if help_text is None else help_text,
    }
    if spec.kind == FieldKind.TEXT:
        return forms.CharField(max_length=spec.max_length, **options)
    if spec.kind in (FieldKind.DATE, FieldKind.EXPIRY):
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if spec.kind == FieldKind.INTEGER:
        return forms.IntegerField(min_value=_whole(spec.min), max_value=_whole(spec.max), **options)
    if spec.kind == FieldKind.DECIMAL:
        return forms.DecimalField(
            min_value=_decimal(spec.min),
            max_value=_decimal(spec.max),
            max_digits=7,
            decimal_places=2,
            **options,
        )
    if spec.kind == FieldKind.YES_NO:
        return forms.TypedChoiceField(
            choices=[EMPTY_CHOICE, ("yes", "Yes"), ("no", "No")],
            coerce=lambda answer: answer == "yes",
            empty_value=None,
            **options,
        )
    return forms.ChoiceField(choices=[EMPTY_CHOICE, *spec.choices], **options)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _shown(value, field):
    if value in (None, ""):
        return "(cleared)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    choices = dict(getattr(field, "choices", ()))
    return Truncator(str(choices.get(value, value))).chars(80)


def _safe_range_hint(bounds, unit):
    if not bounds or bounds.get("min") is None or bounds.get("max") is None:
        return ""
    shown = f" {unit}" if unit else ""
    return f"Safe range {bounds['min']:g}-{bounds['max']:g}{shown}."


class ScreeningForm(forms.Form):
    """One yes/no per catalog question, the fixed items, and one per precaution. No question is
    pre-answered, except with the patient's pre-visit answers (`patient_answers`, {condition slug:
    yes}), which the clinician confirms with the patient before recording."""

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

    def __init__(
        self, *args, questions, precautions=(), patient_answers=None, patient_medications="", **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.precautions = precautions
        self.prefilled = bool(patient_answers)
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
        if patient_answers:
            for question in questions:
                slug = question["condition"]
                if slug in patient_answers:
                    self.initial[f"q_{slug}"] = "yes" if patient_answers[slug] else "no"
            if patient_medications:
                self.initial["new_medications"] = patient_medications

    def answers(self):
        return {q["condition"]: self.cleaned_data[f"q_{q['condition']}"] == "yes" for q in self.questions}

    def precautions_followed(self):
        return {f["code"]: self.cleaned_data[f"p_{f['code']}"] == "yes" for f in self.precautions}


class ProcedureForm(EditedSinceCheck, forms.Form):
    """Carries the version of the record it was built on (EditedSinceCheck): a save over a change
    another clinician made meanwhile is refused, naming who changed what and when."""

    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, fields, depth_areas, limits, session_day, record=None, **kwargs):
        """fields: the session's RecordFieldSpecs; depth_areas: [(slug, name)]; limits: its safe ranges;
        record: the SessionRecord it edits."""
        self.instance = record  # what EditedSinceCheck versions
        self.seen_version = None
        super().__init__(*args, **kwargs)
        self.specs = tuple(fields)
        self.limits = limits
        self.session_day = session_day
        self.area_names = dict(depth_areas)
        self.confirm_keys = {}
        self.per_area_key = None
        self.expiry_fields = []
        notes = self.fields.pop("notes")
        for spec in self.specs:
            if spec.per_area:
                self.per_area_key = spec.key
                for slug, area in depth_areas:
                    name = f"{DEPTH_PREFIX}{slug}"
                    self.fields[name] = _field(
                        spec,
                        label=f"{spec.label}, {area}" + (f" ({spec.unit})" if spec.unit else ""),
                        help_text=_safe_range_hint(spec.safe_range(limits, slug), spec.unit),
                    )
                    self._confirm(f"{spec.key}.{slug}", name)
                continue
            self.fields[spec.key] = _field(spec)
            if spec.kind == FieldKind.EXPIRY:
                self.expiry_fields.append(spec.key)
            if spec.checks_range:
                self._confirm(spec.key, spec.key)
        self.fields["notes"] = notes
        self.fields["seen_version"] = self.fields.pop("seen_version")  # hidden, after the inputs

    def _confirm(self, key, value_field):
        name = f"{CONFIRM_PREFIX}{value_field}"
        self.fields[name] = forms.CharField(label=CONFIRM, required=False, max_length=300)
        self.confirm_keys[key] = (value_field, name)

    def values(self):
        values = {}
        for name, value in self.cleaned_data.items():
            if name == "notes" or name.startswith(CONFIRM_PREFIX) or value in (None, ""):
                continue
            if name.startswith(DEPTH_PREFIX) and self.per_area_key:
                values.setdefault(self.per_area_key, {})[name.removeprefix(DEPTH_PREFIX)] = _plain(value)
            else:
                values[name] = _plain(value)
        return values

    def confirmations(self):
        return {key: self.cleaned_data.get(confirm) or "" for key, (_, confirm) in self.confirm_keys.items()}

    def clean(self):
        # Read before EditedSinceCheck takes it out: the service checks it again under the lock.
        self.seen_version = self.cleaned_data.get("seen_version")
        cleaned = super().clean()
        for name in self.expiry_fields:
            expiry = cleaned.get(name)
            if expiry and expiry < self.session_day:
                self.add_error(name, EXPIRED.format(day=expiry))
        # Ranges are judged on every value that is readable, even when another field has an error:
        # all the problems of a procedure come in one round.
        problems = record_rules.out_of_range(
            self.values(), self.limits, fields=self.specs, area_names=self.area_names
        )
        for problem in record_rules.unconfirmed(problems, self.confirmations()):
            value_field, confirm = self.confirm_keys[problem.key]
            self.add_error(value_field, problem.message)
            self.add_error(confirm, GIVE_A_REASON)
        return cleaned

    def note_saved_meanwhile(self, changes):
        """Show, by this form's labels, what the newer save holds: `changes` maps an entry
        ("passes", "needle_depth_mm.cheeks", "notes") to its value now."""
        entries = []
        for name, field in self.fields.items():
            key = name
            if name.startswith(DEPTH_PREFIX) and self.per_area_key:
                key = f"{self.per_area_key}.{name.removeprefix(DEPTH_PREFIX)}"
            if key in changes:
                entries.append(f"{field.label}: {_shown(changes[key], field)}")
        if entries:
            self.add_error(None, SAVED_MEANWHILE.format(entries="; ".join(entries)))

    def confirm_field_names(self):
        return {confirm for _, confirm in self.confirm_keys.values()}

    @staticmethod
    def initial_from(values, *, fields, confirmations, planned_depths, devices, limits):
        """Initial values from a stored record, or, before one exists, from the plan and session."""
        per_area = next((spec.key for spec in fields if spec.per_area), None)
        initial = {}
        for name, value in (values or {}).items():
            if name == per_area:
                initial.update({f"{DEPTH_PREFIX}{area}": number for area, number in value.items()})
            else:
                initial[name] = value
        for key, confirmation in (confirmations or {}).items():
            field = key.removeprefix(f"{per_area}.") if per_area and key.startswith(f"{per_area}.") else None
            name = f"{DEPTH_PREFIX}{field}" if field else key
            initial[f"{CONFIRM_PREFIX}{name}"] = confirmation["reason"]
        if not values:
            initial.update({f"{DEPTH_PREFIX}{area}": number for area, number in planned_depths.items()})
            peel = limits.get("peel") or {}
            for spec in fields:
                if spec.linked_to == FieldLink.DEVICES and devices:
                    initial[spec.key] = ", ".join(devices)
                elif spec.linked_to == FieldLink.PEEL_AGENT and peel.get("agent"):
                    initial[spec.key] = peel["agent"]
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
