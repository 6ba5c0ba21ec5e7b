"""The intake questionnaire: the form a patient fills on a tablet, and the clinician's review."""

from django import forms

from patients.forms import DateInput, area_field
from patients.models import MedicalCondition


def question_text(condition):
    return condition.intake_question or (
        f"{condition.name}: {condition.description}" if condition.description else condition.name
    )


class QuestionnaireForm(forms.Form):
    medications = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Medicines you take (names and doses)"
    )
    other_allergies = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Other allergies"
    )
    anything_else = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Anything else we should know"
    )

    def __init__(self, *args, conditions, **kwargs):
        super().__init__(*args, **kwargs)
        self.conditions = conditions
        for condition in conditions:
            self.fields[f"yes_{condition.slug}"] = forms.BooleanField(
                required=False, label=question_text(condition)
            )
            self.fields[f"date_{condition.slug}"] = forms.DateField(
                required=False, widget=DateInput(), label="When (start, or the date it happened)"
            )
            self.fields[f"details_{condition.slug}"] = forms.CharField(
                required=False, max_length=300, label="Details (where, which medicine, when stopped)"
            )

    def question_rows(self):
        for condition in self.conditions:
            yield (
                condition,
                self[f"yes_{condition.slug}"],
                self[f"date_{condition.slug}"],
                self[f"details_{condition.slug}"],
            )

    def answers(self):
        data = self.cleaned_data
        ticked = {}
        for condition in self.conditions:
            if data.get(f"yes_{condition.slug}"):
                when = data.get(f"date_{condition.slug}")
                ticked[condition.slug] = {
                    "date": when.isoformat() if when else None,
                    "details": data.get(f"details_{condition.slug}", ""),
                }
        return {
            "conditions": ticked,
            "medications": data.get("medications", ""),
            "other_allergies": data.get("other_allergies", ""),
            "anything_else": data.get("anything_else", ""),
        }


class IntakeCodeForm(forms.Form):
    code = forms.CharField(max_length=12, label="Code from the front desk")

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper().replace(" ", "").replace("-", "")


class ReviewEntryForm(forms.Form):
    include = forms.BooleanField(required=False, initial=True, label="Add to history")
    condition = forms.ModelChoiceField(queryset=MedicalCondition.objects.all(), widget=forms.HiddenInput)
    areas = area_field(help_text="Empty: the whole patient.")
    since = forms.DateField(required=False, widget=DateInput())
    until = forms.DateField(required=False, widget=DateInput(), help_text="Empty: ongoing.")
    notes = forms.CharField(required=False, max_length=500)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date cannot be before the start date.")
        return cleaned


ReviewFormSet = forms.formset_factory(ReviewEntryForm, extra=0)


def review_initial(intake):
    slugs = list((intake.answers.get("conditions") or {}).keys())
    conditions = {c.slug: c for c in MedicalCondition.objects.filter(slug__in=slugs)}
    initial = []
    for slug, answer in intake.answers.get("conditions", {}).items():
        if slug in conditions:
            initial.append(
                {
                    "include": True,
                    "condition": conditions[slug],
                    "since": answer.get("date"),
                    "notes": answer.get("details", ""),
                }
            )
    return initial
