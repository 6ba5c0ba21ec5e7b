"""clinic.disclosure.refusal_on_form: one way for every page to put a service's refusal on the form
where the user acted, the condition only for clinicians."""

import pytest
from django import forms
from django.core.exceptions import ValidationError

from clinic.disclosure import CLINICAL, CLINICIAN_MUST_REVIEW, refusal_on_form

pytestmark = pytest.mark.django_db

KELOID = "Keloid tendency rules out microneedling."


class MoveLike(forms.Form):
    start = forms.CharField(required=False)
    practitioner = forms.CharField(required=False)


def refused():
    return ValidationError(
        {
            "start": [ValidationError("Outside opening hours.", code="booking")],
            "practitioner": [ValidationError("Not qualified.", code="booking")],
            "treatment": [ValidationError(KELOID, code=CLINICAL)],
        }
    )


def bound():
    form = MoveLike({})
    assert form.is_valid()
    return form


def test_each_problem_goes_under_its_field_and_the_rest_on_top(clinician_user):
    form = bound()
    refusal_on_form(form, refused(), clinician_user)
    assert form.errors["start"] == ["Outside opening hours."]
    assert form.errors["practitioner"] == ["Not qualified."]
    assert form.non_field_errors() == [KELOID]  # the form has no treatment field


def test_the_front_desk_reads_that_a_clinician_must_review_not_the_condition(front_desk_user):
    form = bound()
    refusal_on_form(form, refused(), front_desk_user)
    shown = [message for messages in form.errors.values() for message in messages]
    assert KELOID not in shown
    assert CLINICIAN_MUST_REVIEW in form.non_field_errors()


def test_a_field_the_user_did_not_type_puts_its_problem_on_top(clinician_user):
    form = bound()
    refusal_on_form(form, refused(), clinician_user, not_on=("start",))
    assert "start" not in form.errors
    assert "Outside opening hours." in form.non_field_errors()


def test_a_refusal_without_fields_goes_on_top(front_desk_user):
    form = bound()
    refusal_on_form(form, ValidationError(["The calendar is busy, try again."]), front_desk_user)
    assert form.non_field_errors() == ["The calendar is busy, try again."]
