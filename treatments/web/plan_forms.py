"""The plan builder's formset: one form per item of a suggestion, each giving the clinician's
choice (an option or none, sessions, interval, needle depths, a reason, the acknowledgement)."""

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms

from treatments.engine.plan_choices import ItemChoice, check_choice, default_option_index
from treatments.engine.plan_results import Option, PlanItem, Severity, Suggestion

NONE = "none"
SHOWN_FIRST = 3
OPTION_INVALID = "Choose one of the options."
SESSIONS_INVALID = "Sessions must be a whole number of at least 1."
INTERVAL_INVALID = "The interval must be a whole number of days, at least 1."
DEPTH_INVALID = "Needle depths are numbers of millimetres, e.g. 1.5."
DEPTH_PREFIX = "depth_"


@dataclass(frozen=True)
class OptionRow:
    """An option as the builder lists it: its radio value, whether it is selected, and the
    relative contraindications a clinician may still clear for it."""

    value: str
    option: Option
    selected: bool
    clearable: tuple[str, ...]


class ItemChoiceForm(forms.Form):
    option = forms.ChoiceField(required=False, error_messages={"invalid_choice": OPTION_INVALID})
    sessions = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": SESSIONS_INVALID, "min_value": SESSIONS_INVALID},
    )
    interval_days = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": INTERVAL_INVALID, "min_value": INTERVAL_INVALID},
    )
    reason = forms.CharField(required=False)
    acknowledged = forms.BooleanField(required=False)

    def __init__(
        self, *args: Any, item: PlanItem, cleared: Collection[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        self.item = item
        self.cleared = cleared
        default = default_option_index(item.options)
        shown = item.options[default] if default is not None else None
        kwargs["initial"] = {
            "option": NONE if default is None else str(default),
            **(_initial_settings(shown) if shown else {}),
        }
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [
            *((str(index), option.treatment) for index, option in enumerate(item.options)),
            (NONE, "No treatment for this concern now"),
        ]
        areas = dict.fromkeys(area for option in item.options for area in option.needle_depths())
        for area in areas:
            self.fields[DEPTH_PREFIX + area] = forms.DecimalField(
                required=False,
                error_messages={"invalid": DEPTH_INVALID},
                widget=forms.NumberInput(attrs={"step": "0.05"}),
            )
        for field in ("sessions", "interval_days", "reason", *(DEPTH_PREFIX + a for a in areas)):
            self.fields[field].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["acknowledged"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        choice = self.choice()
        if choice.option_index is not None:
            for problem in check_choice(self.item.options[choice.option_index], choice):
                self.add_error(None, problem)
        return cleaned

    def choice(self) -> ItemChoice:
        data = self.cleaned_data
        option = data.get("option") or NONE
        depths = {
            name.removeprefix(DEPTH_PREFIX): float(value)
            for name, value in data.items()
            if name.startswith(DEPTH_PREFIX) and value is not None
        }
        return ItemChoice(
            option_index=None if option == NONE else int(option),
            sessions=data.get("sessions"),
            interval_days=data.get("interval_days"),
            depths=depths,
            reason=data.get("reason", ""),
            acknowledged=bool(data.get("acknowledged")),
        )

    @property
    def selected(self) -> str:
        """The radio value to show selected: what was posted, else the default option."""
        return str(self["option"].value() or NONE)

    @property
    def shown_option(self) -> Option | None:
        """The option whose series and depth fields are shown."""
        if self.selected == NONE or not self.selected.isdigit():
            return None
        index = int(self.selected)
        return self.item.options[index] if index < len(self.item.options) else None

    def option_rows(self) -> list[OptionRow]:
        return self._option_rows

    @cached_property
    def _option_rows(self) -> list[OptionRow]:
        return [
            OptionRow(
                value=str(index),
                option=option,
                selected=self.selected == str(index),
                clearable=tuple(
                    sorted(
                        {
                            flag.code
                            for flag in option.flags
                            if flag.severity == Severity.RELATIVE
                            and (option.treatment, flag.code) not in self.cleared
                        }
                    )
                ),
            )
            for index, option in enumerate(self.item.options)
        ]

    @property
    def first_rows(self) -> list[OptionRow]:
        """The best options, shown at once; the rest are one click away."""
        return self.option_rows()[:SHOWN_FIRST]

    @property
    def more_rows(self) -> list[OptionRow]:
        return self.option_rows()[SHOWN_FIRST:]

    @property
    def more_selected(self) -> bool:
        return any(row.selected for row in self.more_rows)

    def depth_fields(self) -> list[tuple[str, forms.BoundField]]:
        shown = self.shown_option
        if shown is None:
            return []
        return [(area, self[DEPTH_PREFIX + area]) for area in shown.needle_depths()]

    def problems(self) -> list[str]:
        """Every message about this item, field by field and then the item's own."""
        return [message for messages in self.errors.values() for message in messages]


def _initial_settings(option: Option) -> dict[str, Any]:
    return {
        "sessions": option.sessions.default,
        "interval_days": option.interval_days.typical,
        **{DEPTH_PREFIX + area: bounds["max"] for area, bounds in option.needle_depths().items()},
    }


def suggestion_basis(suggestion: Suggestion, catalog_stamp: str) -> str:
    """What the page was built on: a changed catalog, record or day gives another value."""
    text = json.dumps([catalog_stamp, suggestion.to_json()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class BasePlanChoiceFormSet(forms.BaseFormSet):
    def __init__(
        self,
        *args: Any,
        suggestion: Suggestion,
        catalog_stamp: str,
        cleared: Collection[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        self.suggestion = suggestion
        self.cleared = cleared
        self.basis = suggestion_basis(suggestion, catalog_stamp)
        kwargs.setdefault("prefix", "item")
        super().__init__(*args, **kwargs)

    def total_form_count(self) -> int:
        return len(self.suggestion.items)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None:
            # Every item is a choice to judge, also when left as shown: Django would otherwise treat
            # an unchanged form beyond INITIAL_FORMS as an empty extra one and skip it.
            kwargs.update(item=self.suggestion.items[index], cleared=self.cleared, empty_permitted=False)
        return kwargs

    @property
    def stale(self) -> bool:
        """Whether the posted page was built on another catalog, record or day than now."""
        return self.is_bound and self.data.get("basis") != self.basis

    def choices(self) -> list[ItemChoice]:
        return [form.choice() for form in self.forms]


PlanChoiceFormSet = forms.formset_factory(ItemChoiceForm, formset=BasePlanChoiceFormSet, extra=0)
