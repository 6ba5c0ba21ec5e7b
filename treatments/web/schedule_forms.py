import re
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time

from patients.models import BodyArea, Patient
from treatments.engine.timeslots import Slot
from treatments.models import PlannedSession, Practitioner, Room, Treatment
from treatments.selectors.availability import clinic_zone
from treatments.services import booking

STALE_PROPOSAL = "The proposal is out of date: look at the new one and confirm again."
NOTHING_TO_BOOK = "Nothing left to book in this plan."

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
    time = forms.TimeField(
        required=False,
        label="From time",
        widget=forms.TimeInput(attrs={"type": "time", "step": 900}, format="%H:%M"),
    )
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


# The slot an empty calendar cell names: ?practitioner=<id>&day=YYYY-MM-DD&time=HH:MM (ids only).
SLOT_PARAMS = ("practitioner", "day", "time")


def slot_initial(params) -> dict[str, Any]:
    """Initial booking values from an empty calendar cell's query: the valid ones; the rest ignored."""
    initial: dict[str, Any] = {}
    chosen = params.get("practitioner", "")
    if chosen.isdigit() and practitioners().filter(pk=chosen).exists():
        initial["practitioner"] = int(chosen)
    try:
        day = parse_date(params.get("day", ""))
    except ValueError:  # well formed but impossible, e.g. 2027-13-45
        day = None
    if day is not None:
        initial["day"] = day
    wanted = params.get("time", "")
    try:
        at = parse_time(wanted) if re.fullmatch(r"\d{2}:\d{2}", wanted) else None
    except ValueError:  # e.g. 25:99
        at = None
    if at is not None:
        initial["time"] = at
    return initial


class BookForm(SlotSearchForm):
    start = forms.DateTimeField(widget=forms.HiddenInput)
    slot_practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.all(), widget=forms.HiddenInput)
    planned_session = forms.IntegerField(required=False, widget=forms.HiddenInput)
    override_reason = forms.CharField(required=False, label="Reason to book inside the minimum interval")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].required = False

    def booking_request(self, *, patient: Patient, planned: PlannedSession | None) -> booking.BookingRequest:
        data = self.cleaned_data
        return booking.BookingRequest(
            patient=patient,
            treatment=data["treatment"],
            areas=list(data["areas"]),
            practitioner=data["slot_practitioner"],
            start=data["start"],
            plan=planned.plan if planned else None,
            planned_session=planned,
            override_reason=data["override_reason"],
        )


def local_moment(day, at):
    """An aware datetime for a wall-clock time on a day in the clinic's zone."""
    return datetime.combine(day, at, tzinfo=clinic_zone())


class MoveForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    practitioner = PractitionerChoice(
        queryset=practitioners(), required=False, empty_label="Same practitioner"
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), required=False, empty_label="Any suitable room"
    )
    override_reason = forms.CharField(required=False, label="Reason to move inside the minimum interval")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners()
        self.fields["room"].queryset = Room.objects.filter(active=True).select_related("location")

    def start(self):
        return local_moment(self.cleaned_data["day"], self.cleaned_data["time"])


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, label="Reason for cancelling")


def today():
    return timezone.localdate()


class ProposedSessionForm(forms.Form):
    """One session of a plan's proposal, as the desk saw and confirmed it."""

    session = forms.IntegerField(widget=forms.HiddenInput)
    start = forms.DateTimeField(widget=forms.HiddenInput)
    practitioner = forms.IntegerField(widget=forms.HiddenInput)
    room = forms.IntegerField(required=False, widget=forms.HiddenInput)
    devices = forms.CharField(required=False, widget=forms.HiddenInput)

    @staticmethod
    def initial_for(session: PlannedSession, slot: Slot) -> dict[str, Any]:
        return {
            "session": session.pk,
            "start": slot.start.isoformat(),
            "practitioner": slot.practitioner,
            "room": slot.room,
            "devices": ",".join(str(device) for device in slot.devices),
        }

    def clean_devices(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.cleaned_data["devices"].split(",") if d.strip().isdigit())


class BaseProposalFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, sessions: Sequence[PlannedSession], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = {session.pk: session for session in sessions}

    def clean(self) -> None:
        if any(self.errors):
            return
        if any(form.cleaned_data["session"] not in self.sessions for form in self.forms):
            raise ValidationError(STALE_PROPOSAL)
        if not self.forms:
            raise ValidationError(NOTHING_TO_BOOK)

    def problems(self) -> list[str]:
        if not self.management_form.is_valid() or any(self.errors):
            return [STALE_PROPOSAL]
        return list(self.non_form_errors())

    def proposal(self) -> booking.Proposal:
        """The (planned session, slot) pairs confirmed."""
        chosen = []
        for form in self.forms:
            data = form.cleaned_data
            start = data["start"]
            slot = Slot(start, start, data["practitioner"], data["room"], data["devices"])
            chosen.append((self.sessions[data["session"]], slot))
        return chosen


ProposalFormSet = forms.formset_factory(ProposedSessionForm, formset=BaseProposalFormSet, extra=0)


def proposal_formset(proposal: booking.Proposal, sessions: Sequence[PlannedSession]) -> BaseProposalFormSet:
    return ProposalFormSet(
        initial=[ProposedSessionForm.initial_for(session, slot) for session, slot in proposal],
        sessions=sessions,
        prefix="proposal",
    )


def posted_proposal(data: Any, sessions: Sequence[PlannedSession]) -> BaseProposalFormSet:
    return ProposalFormSet(data, sessions=sessions, prefix="proposal")
