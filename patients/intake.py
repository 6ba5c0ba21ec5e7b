"""The intake questionnaire: the form a patient fills on a tablet, and the clinician's review."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from patients.forms import DateInput, area_field
from patients.models import MedicalCondition
from patients.services import OngoingRecord, history_date_problem

# How the questionnaire asks the patient about each condition of the seeded vocabulary, in plain
# words. A clinic admin's own wording (MedicalCondition.intake_question) comes first; a condition
# not listed here falls back to its name and description.
PATIENT_QUESTIONS = {
    # your health
    "pregnancy": "Are you pregnant, or could you be?",
    "breastfeeding": "Are you breastfeeding?",
    "bleeding_disorder": "Do you bleed or bruise easily, or have a bleeding disorder (e.g. haemophilia)?",
    "thrombocytopenia": "Have you been told your platelet count is low?",
    "anaemia": "Have you been told you are anaemic (low iron or low haemoglobin)?",
    "acute_illness": "Are you unwell at the moment, for example with a fever or an infection?",
    "active_cancer": "Do you have cancer that is being treated or is not in remission?",
    "chemotherapy": "Are you having chemotherapy or radiotherapy?",
    "immunosuppression": "Do you take medicine that weakens the immune system (e.g. after a transplant), "
    "or have a condition that does?",
    "uncontrolled_diabetes": "Do you have diabetes that is hard to keep under control?",
    "connective_tissue_disease": "Do you have lupus, scleroderma or another connective tissue disease?",
    "blood_borne_infection": "Do you have hepatitis B, hepatitis C or HIV?",
    # medicines
    "isotretinoin": "Do you take, or have you taken, isotretinoin tablets for acne (e.g. Roaccutane)?",
    "topical_acid": "Do you use acid or exfoliating skin products (glycolic, lactic or salicylic acid, "
    "benzoyl peroxide, scrubs)?",
    "blood_thinning_supplement": "Do you take fish oil, vitamin E, ginkgo or garlic supplements?",
    "topical_retinoid": "Do you use a retinol or retinoid cream (e.g. tretinoin, adapalene)?",
    "photosensitising_drug": "Do you take a medicine that makes your skin sensitive to the sun "
    "(e.g. doxycycline)?",
    "anticoagulant": "Do you take blood thinners (e.g. warfarin, apixaban, clopidogrel, "
    "daily aspirin from your doctor)?",
    "nsaid": "Do you regularly take painkillers such as ibuprofen or naproxen?",
    "systemic_corticosteroid": "Do you take steroid tablets or have steroid injections (e.g. prednisolone)?",
    # allergies
    "salicylate_allergy": "Are you allergic to aspirin?",
    "anaesthetic_allergy": "Have you had an allergic reaction to a numbing cream or local anaesthetic?",
    "metal_allergy": "Are you allergic to nickel or another metal (e.g. jewellery gives you a rash)?",
    "stainless_steel_allergy": "Has a test shown you are allergic to stainless steel?",
    # your skin
    "active_acne": "Do you have acne spots on the skin to be treated?",
    "active_infection": "Do you have a skin infection where you want treatment "
    "(e.g. impetigo, warts, a fungal rash)?",
    "herpes_simplex_active": "Do you have a cold sore right now?",
    "rosacea": "Do you have rosacea, or is it flaring up where you want treatment?",
    "eczema_dermatitis": "Do you have eczema or dermatitis where you want treatment?",
    "psoriasis": "Do you have psoriasis?",
    "vitiligo_active": "Do you have vitiligo with new pale patches in the last 12 months?",
    "vitiligo_stable": "Do you have vitiligo with no new patches for 12 months or more?",
    "open_wound": "Do you have a cut, graze or broken skin where you want treatment?",
    "suspicious_lesion": "Do you have a mole or spot that is changing, or that a doctor has not yet checked, "
    "where you want treatment?",
    "radiation_therapy": "Has the skin to be treated ever had radiotherapy?",
    "tattoo": "Do you have a tattoo or permanent make-up where you want treatment?",
    # lasting traits
    "herpes_simplex_history": "Have you ever had cold sores?",
    "keloid_tendency": "Do your scars tend to become thick, raised or lumpy (keloid scars)?",
    "tanning": "Do you sunbathe, use sunbeds or use self-tan at the moment?",
    "smoking": "Do you smoke?",
    # recent treatments and events
    "sunburn": "Have you been sunburnt or got a tan recently on the skin to be treated?",
    "facial_surgery": "Have you had surgery where you want treatment?",
    "steroid_injection": "Have you had a steroid injection where you want treatment?",
    "botulinum_toxin": "Have you had anti-wrinkle injections (e.g. Botox) where you want treatment?",
    "dermal_filler": "Have you had filler injections where you want treatment?",
    "laser_ipl": "Have you had laser or IPL (light) treatment where you want treatment?",
    "recent_peel": "Have you had a light chemical peel recently where you want treatment?",
    "recent_medium_peel": "Have you had a medium or deep chemical peel where you want treatment?",
    "recent_microneedling": "Have you had microneedling recently where you want treatment?",
    "recent_prp": "Have you had PRP (your own blood plasma) injections or PRP microneedling recently "
    "where you want treatment?",
    "waxing": "Have you had waxing, hair-removal cream or electrolysis recently where you want treatment?",
}

# The date asked with a "yes", in the patient's words: by kind, and where one condition needs its own.
DATE_QUESTIONS = {
    MedicalCondition.Kind.EVENT: "When was it? (an approximate date is fine)",
    MedicalCondition.Kind.MEDICATION: "When did you start taking or using it?",
    MedicalCondition.Kind.ALLERGY: "When did you find out? (if you know)",
}
DATE_QUESTION = "When did it start? (an approximate date is fine)"
DATE_QUESTION_FOR = {
    "vitiligo_active": "When did the most recent patch start?",
    "herpes_simplex_history": "When did you last have one?",
    "isotretinoin": "When did you start the tablets?",
    "sunburn": "When did it happen?",
}
# For a medicine, when it was last taken: the rules on medicines count from the last dose (e.g. 6
# months after isotretinoin), which the start date does not tell.
STOPPED_QUESTION = "If you have stopped: when did you last take or use it?"
STOPPED_BEFORE_START = "The last time cannot be before the start."
DETAILS_QUESTION = {
    MedicalCondition.Kind.MEDICATION: "Which medicine, and how much?",
    MedicalCondition.Kind.EVENT: "Where on your body, and what was done?",
}
DETAILS_DEFAULT = "Tell us more (where on your body, anything we should know)"


def question_text(condition):
    return (
        condition.intake_question
        or PATIENT_QUESTIONS.get(condition.slug)
        or (f"{condition.name}: {condition.description}" if condition.description else condition.name)
    )


def date_question(condition):
    return DATE_QUESTION_FOR.get(condition.slug) or DATE_QUESTIONS.get(condition.kind, DATE_QUESTION)


def details_question(condition):
    return DETAILS_QUESTION.get(condition.kind, DETAILS_DEFAULT)


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

    def __init__(
        self,
        *args: Any,
        conditions: Sequence[MedicalCondition],
        today: date | None = None,
        born: date | None = None,
        **kwargs: Any,
    ) -> None:
        """`today`: the clinic's local date (by default now's); `born`: the patient's birth date, if
        known. A ticked answer's date must lie between them."""
        super().__init__(*args, **kwargs)
        self.conditions = conditions
        self.today = today or timezone.localdate()
        self.born = born
        for condition in conditions:
            self.fields[f"yes_{condition.slug}"] = forms.BooleanField(
                required=False, label=question_text(condition)
            )
            self.fields[f"date_{condition.slug}"] = forms.DateField(
                required=False,
                # No "min" from the birth date: the tablet's page shows the patient nothing but a first name.
                widget=DateInput(attrs={"max": self.today.isoformat()}),
                label=date_question(condition),
            )
            if condition.kind == MedicalCondition.Kind.MEDICATION:
                self.fields[f"stopped_{condition.slug}"] = forms.DateField(
                    required=False,
                    widget=DateInput(attrs={"max": self.today.isoformat()}),
                    label=STOPPED_QUESTION,
                )
            self.fields[f"details_{condition.slug}"] = forms.CharField(
                required=False, max_length=300, label=details_question(condition)
            )
        for name, field in self.fields.items():
            if not name.startswith("yes_"):
                field.widget.attrs.setdefault("class", "form-control")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for condition in self.conditions:
            # An unticked question's date is never sent on (`answers`), so it is not judged.
            if not cleaned.get(f"yes_{condition.slug}"):
                continue
            for name in (f"date_{condition.slug}", f"stopped_{condition.slug}"):
                problem = history_date_problem(cleaned.get(name), today=self.today, born=self.born)
                if problem:
                    self.add_error(name, problem)
            started, stopped = cleaned.get(f"date_{condition.slug}"), cleaned.get(f"stopped_{condition.slug}")
            if started and stopped and stopped < started and f"stopped_{condition.slug}" not in self.errors:
                self.add_error(f"stopped_{condition.slug}", STOPPED_BEFORE_START)
        return cleaned

    def question_rows(self):
        for condition in self.conditions:
            yield (
                condition,
                self[f"yes_{condition.slug}"],
                self[f"date_{condition.slug}"],
                self[f"details_{condition.slug}"],
                self[f"stopped_{condition.slug}"] if f"stopped_{condition.slug}" in self.fields else None,
            )

    def answers(self):
        data = self.cleaned_data
        ticked = {}
        for condition in self.conditions:
            if data.get(f"yes_{condition.slug}"):
                when = data.get(f"date_{condition.slug}")
                stopped = data.get(f"stopped_{condition.slug}")
                ticked[condition.slug] = {
                    "date": when.isoformat() if when else None,
                    "details": data.get(f"details_{condition.slug}", ""),
                }
                if stopped:
                    ticked[condition.slug]["stopped"] = stopped.isoformat()
        return {
            "conditions": ticked,
            "medications": data.get("medications", ""),
            "other_allergies": data.get("other_allergies", ""),
            "anything_else": data.get("anything_else", ""),
        }


def questionnaire_initial(answers):
    """The form's initial values from answers given before (`QuestionnaireForm.answers`), so that a
    patient changing answers still waiting for review starts from what they sent."""
    initial = {key: answers.get(key, "") for key in ("medications", "other_allergies", "anything_else")}
    conditions = answers.get("conditions") or {}
    for slug, answer in conditions.items() if isinstance(conditions, dict) else ():
        answer = answer if isinstance(answer, dict) else {}
        initial[f"yes_{slug}"] = True
        initial[f"date_{slug}"] = answer.get("date")
        initial[f"details_{slug}"] = answer.get("details", "")
        initial[f"stopped_{slug}"] = answer.get("stopped")
    return initial


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

    def __init__(
        self,
        *args: Any,
        today: date | None = None,
        born: date | None = None,
        ongoing: Mapping[int, OngoingRecord] | None = None,
        **kwargs: Any,
    ) -> None:
        """`ongoing`: the patient's ongoing history records by condition id
        (`services.ongoing_history`), for the "already in the history" marker."""
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.born = born
        self.ongoing = ongoing or {}
        for name in ("since", "until"):
            self.fields[name].widget.attrs["max"] = self.today.isoformat()

    @property
    def already(self) -> OngoingRecord | None:
        """The ongoing record this answer repeats, if the history has one."""
        condition = self.initial.get("condition")
        return self.ongoing.get(condition.pk) if isinstance(condition, MedicalCondition) else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date cannot be before the start date.")
        if cleaned.get("include"):
            for name in ("since", "until"):
                problem = history_date_problem(cleaned.get(name), today=self.today, born=self.born)
                if problem:
                    self.add_error(name, problem)
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
                    "until": answer.get("stopped"),
                    "notes": answer.get("details", ""),
                }
            )
    return initial
