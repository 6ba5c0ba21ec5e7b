from datetime import datetime, time

from django import forms
from django.utils import timezone

from patients.models import BodyArea, Patient
from treatments.models import Practitioner, Treatment
from treatments.selectors.availability import clinic_zone

PARTS_OF_DAY = {
    "": None,
    "morning": (time(7), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), time(22)),
}


class PractitionerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


def practitioners():
    return Practitioner.objects.filter(active=True).select_related("user")


class SlotSearchForm(forms.Form):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.filter(archived_at__isnull=True), widget=forms.HiddenInput
    )
    treatment = forms.ModelChoiceField(queryset=Treatment.objects.filter(active=True), to_field_name="slug")
    areas = forms.ModelMultipleChoiceField(
        queryset=BodyArea.objects.all(), to_field_name="slug", widget=forms.SelectMultiple(attrs={"size": 6})
    )
    practitioner = PractitionerChoice(queryset=practitioners(), required=False, empty_label="Any qualified")
    day = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    part_of_day = forms.ChoiceField(
        choices=[
            ("", "Any time"),
            ("morning", "Morning"),
            ("afternoon", "Afternoon"),
            ("evening", "Evening"),
        ],
        required=False,
        label="Time of day",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners()


class BookForm(SlotSearchForm):
    start = forms.DateTimeField(widget=forms.HiddenInput)
    slot_practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.all(), widget=forms.HiddenInput)
    planned_session = forms.IntegerField(required=False, widget=forms.HiddenInput)
    override_reason = forms.CharField(required=False, label="Reason to book inside the minimum interval")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].required = False


def local_moment(day, at):
    """An aware datetime for a wall-clock time on a day in the clinic's zone."""
    return datetime.combine(day, at, tzinfo=clinic_zone())


class MoveForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    practitioner = PractitionerChoice(
        queryset=practitioners(), required=False, empty_label="Same practitioner"
    )
    override_reason = forms.CharField(required=False, label="Reason to move inside the minimum interval")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners()

    def start(self):
        return local_moment(self.cleaned_data["day"], self.cleaned_data["time"])


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, label="Reason for cancelling")


def today():
    return timezone.localdate()
