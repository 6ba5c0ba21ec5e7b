from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from clinic.roles import CLINICIAN
from patients.models import (
    BodyArea,
    Concern,
    ConditionRecord,
    ConsentForm,
    MedicalCondition,
    Patient,
    PatientConsent,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def staff_display_name(user):
    """ "First Last" for a member of staff; the username only when no name is recorded."""
    return user.get_full_name().strip() or user.get_username()


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return staff_display_name(user)


def practitioner_choices():
    return (
        get_user_model()
        .objects.filter(groups__name=CLINICIAN, is_active=True)
        .order_by("last_name", "first_name")
    )


class AreaChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, area):
        depth = 0
        node = area
        while node.parent_id is not None and depth < 5:
            depth += 1
            node = node.parent
        return "\u2003" * depth + area.name


def area_field(required=False, help_text=""):
    return AreaChoiceField(
        queryset=BodyArea.objects.filter(active=True).select_related("parent__parent__parent"),
        required=required,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=help_text,
    )


class CrispyForm:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


EDITED_MEANWHILE = (
    "{who} changed this at {when} while you were editing ({fields}). Your entries are kept below: "
    "check them against the saved record and save again."
)


def _latest_change(instance):
    return instance.history.order_by("-history_id").select_related("history_user").first()


class EditedSinceCheck:
    """For a model form: refuses to save over a change someone else saved after it was opened.

    The form carries the id of the newest history row it was built on; a save whose row is no
    longer the newest names who changed what and when, and keeps what this user typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk and not self.is_bound:
            latest = _latest_change(instance)
            self.initial["seen_version"] = latest.history_id if latest else 0

    def clean(self):
        cleaned = super().clean()
        seen = cleaned.pop("seen_version", None)
        instance = getattr(self, "instance", None)
        if instance is None or not instance.pk or seen is None:
            return cleaned
        latest = _latest_change(instance)
        if latest is None or latest.history_id == seen:
            return cleaned
        earlier = instance.history.filter(history_id=seen).first()
        changed = latest.diff_against(earlier).changed_fields if earlier else []
        names = [str(instance._meta.get_field(name).verbose_name) for name in changed] or ["the record"]
        who = staff_display_name(latest.history_user) if latest.history_user else "Someone"
        when = timezone.localtime(latest.history_date)
        self.data = self.data.copy()
        self.data[self.add_prefix("seen_version")] = latest.history_id  # saving again is a choice
        raise forms.ValidationError(
            EDITED_MEANWHILE.format(who=who, when=f"{when:%H:%M}", fields=", ".join(names)),
            code="edited_meanwhile",
        )


MAX_AGE_YEARS = 120
BIRTH_DATE_IN_FUTURE = "The date of birth cannot be in the future."
BIRTH_DATE_IMPLAUSIBLE = (
    "Check the date of birth: it gives an age over {max_age} years (a patient is 0 to {max_age} years old)."
)
POSSIBLE_DUPLICATE = (
    "This patient may already be registered (same name and date of birth, or same phone number): "
    "open the existing record below. If this is a different person, tick "
    "\u201cThis is a different person\u201d and save again."
)
PHONE_MATCH_DIGITS = 10  # the national number: "+1 212 555 0142" and "(212) 555-0142" match
PHONE_MIN_DIGITS = 7


def _years_between(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def possible_duplicates(*, first_name, last_name, date_of_birth, phone, exclude_pk=None):
    """Registered patients who may be the same person: the same first and last name (any case) and
    date of birth, or the same phone number once reduced to its digits."""
    match = Q(pk__in=[])
    if first_name and last_name and date_of_birth:
        match |= Q(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            date_of_birth=date_of_birth,
        )
    digits = "".join(char for char in phone or "" if char.isdigit())
    if len(digits) >= PHONE_MIN_DIGITS:
        match |= Q(phone_digits__endswith=digits[-PHONE_MATCH_DIGITS:])
    found = Patient.objects.filter(match)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return list(found.order_by("last_name", "first_name", "id")[:10])


class PatientForm(EditedSinceCheck, CrispyForm, forms.ModelForm):
    preferred_practitioner = PractitionerChoiceField(queryset=None, required=False)

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "preferred_practitioner",
            "notes",
        ]
        widgets = {"date_of_birth": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_practitioner"].queryset = practitioner_choices()
        self.fields["preferred_practitioner"].label = Patient._meta.get_field(
            "preferred_practitioner"
        ).verbose_name.capitalize()
        self.duplicates = []
        if self.instance.pk is None:
            # Shown as a checkbox only once a possible duplicate has been found.
            self.fields["different_person"] = forms.BooleanField(
                required=False, label="This is a different person", widget=forms.HiddenInput
            )

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born is None:
            return born
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(BIRTH_DATE_IN_FUTURE, code="future")
        if _years_between(born, today) > MAX_AGE_YEARS:
            raise forms.ValidationError(
                BIRTH_DATE_IMPLAUSIBLE.format(max_age=MAX_AGE_YEARS), code="implausible_age"
            )
        return born

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email") and not self.errors.get("phone"):
            self.add_error(
                "phone", "Give a phone number or an e-mail address so the clinic can reach the patient."
            )
        if "different_person" in self.fields and not self.errors:
            different = cleaned.pop("different_person", False)
            self.duplicates = possible_duplicates(
                first_name=cleaned.get("first_name"),
                last_name=cleaned.get("last_name"),
                date_of_birth=cleaned.get("date_of_birth"),
                phone=cleaned.get("phone"),
            )
            if self.duplicates and not different:
                self.fields["different_person"].widget = forms.CheckboxInput()
                raise forms.ValidationError(POSSIBLE_DUPLICATE, code="possible_duplicate")
        cleaned.pop("different_person", None)
        return cleaned


class ClinicalProfileForm(EditedSinceCheck, CrispyForm, forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["fitzpatrick", "other_allergies"]
        widgets = {"other_allergies": forms.Textarea(attrs={"rows": 2})}


class ConditionRecordForm(EditedSinceCheck, CrispyForm, forms.ModelForm):
    areas = area_field(help_text="Leave empty when it concerns the whole patient.")

    class Meta:
        model = ConditionRecord
        fields = ["condition", "areas", "since", "until", "value", "notes"]
        widgets = {"since": DateInput(), "until": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "since": "When it started; for an event (toxin, waxing, sunburn) the date it happened.",
            "until": "When it ended or the medication was stopped. Empty: ongoing.",
            "value": "Only for a condition measured by a value (e.g. low platelets: the platelet count), "
            "in the unit the catalog names for it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].queryset = MedicalCondition.objects.filter(active=True).order_by(
            "kind", "name"
        )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date cannot be before the start date.")
        condition, value = cleaned.get("condition"), cleaned.get("value")
        if value is not None and condition is not None and not condition.measure_name:
            self.add_error("value", f"{condition.name} has no measured value: leave it empty.")
        return cleaned


class ConcernForm(EditedSinceCheck, CrispyForm, forms.ModelForm):
    areas = area_field(required=True)

    class Meta:
        model = Concern
        fields = ["concern", "areas", "severity", "note", "goal"]
        widgets = {"goal": forms.Textarea(attrs={"rows": 2})}


class ConsentRecordForm(CrispyForm, forms.ModelForm):
    class Meta:
        model = PatientConsent
        fields = ["form", "treatment", "signed_on"]
        widgets = {"signed_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = ConsentForm.objects.filter(active=True)


class PatientSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
