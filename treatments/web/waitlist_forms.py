from typing import Any

from django import forms

from patients.models import BodyArea, Patient
from treatments.models import Appointment, Location, Plan, PlannedSession, Practitioner, Treatment
from treatments.selectors.availability import clinic_zone
from treatments.web.schedule_forms import PractitionerChoice, practitioners


class VisitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        window = f"{obj.earliest:%d %b}" + (
            f" to {obj.latest:%d %b %Y}" if obj.latest != obj.earliest else ""
        )
        return f"Visit {obj.visit}: {obj.treatment.name} #{obj.session} ({window})"


def unbooked_visits(patient: Patient) -> Any:
    """Visits of the patient's current accepted plan with no active booking."""
    return (
        PlannedSession.objects.filter(plan__patient=patient, plan__status=Plan.Status.ACCEPTED)
        .exclude(appointments__status__in=sorted(Appointment.ACTIVE))
        .select_related("treatment")
        .order_by("visit", "id")
    )


class WaitlistForm(forms.Form):
    """A plan visit, or a treatment on areas between two dates; preferences optional."""

    planned_session = VisitChoice(
        queryset=PlannedSession.objects.none(),
        required=False,
        label="Plan visit",
        empty_label="Not a plan visit: choose below",
    )
    treatment = forms.ModelChoiceField(queryset=Treatment.objects.filter(active=True), required=False)
    areas = forms.ModelMultipleChoiceField(
        queryset=BodyArea.objects.filter(active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    earliest = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    latest = forms.DateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    practitioner = PractitionerChoice(queryset=practitioners(), required=False, empty_label="Any qualified")
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(), required=False, empty_label="Any location"
    )
    # Shown only with a relative contraindication's or a precaution's warning (add.html).
    add_anyway = forms.BooleanField(required=False, label="Add anyway")

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visits = self.fields["planned_session"]
        assert isinstance(visits, forms.ModelChoiceField)
        visits.queryset = unbooked_visits(patient)
        practitioner = self.fields["practitioner"]
        assert isinstance(practitioner, forms.ModelChoiceField)
        practitioner.queryset = practitioners()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("planned_session") is None:
            for field, message in (
                ("treatment", "Choose a plan visit, or a treatment."),
                ("areas", "Choose at least one area."),
                ("earliest", "Give the first day the patient could come."),
                ("latest", "Give the last day the patient could come."),
            ):
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, message)
        return data


class FreedSlotForm(forms.Form):
    """The slot a cancellation or a move gave back, as the panel links to it."""

    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.select_related("user"))
    location = forms.ModelChoiceField(queryset=Location.objects.all())
    start = forms.DateTimeField()
    until = forms.DateTimeField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, until = data.get("start"), data.get("until")
        if start and until and until <= start:
            self.add_error("until", "The end is before the start.")
        return data


class WaitlistBookForm(forms.Form):
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.filter(active=True))
    start = forms.DateTimeField()

    def clean_start(self) -> Any:
        start = self.cleaned_data["start"]
        return start.astimezone(clinic_zone())
