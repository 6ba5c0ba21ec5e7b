"""What a user may read of a patient's clinical situation: the one place that decides it.

Clinicians read everything. Others (the front desk, later the patients' portal) learn that a
booking is not possible and that a clinician must review it, never which condition is the reason,
and never a clinician's free text about a plan.
"""

from collections.abc import Collection

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError

from clinic.roles import CLINICIAN, has_role

CLINICAL = "clinical"  # the code of a ValidationError that names the patient's condition
CLINICIAN_MUST_REVIEW = (
    "This booking is not possible for this patient on that date: a clinician must review the plan first."
)


def sees_clinical_detail(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, CLINICIAN)


def _disclosed(errors: list[ValidationError]) -> list[ValidationError]:
    kept = [error for error in errors if error.code != CLINICAL]
    if len(kept) < len(errors):
        kept.append(ValidationError(CLINICIAN_MUST_REVIEW, code=CLINICAL))
    return kept


def disclosed_refusal(error: ValidationError, user: AbstractBaseUser | AnonymousUser) -> ValidationError:
    """The refusal as this user may read it: the condition only for clinicians."""
    if sees_clinical_detail(user):
        return error
    if hasattr(error, "error_dict"):
        return ValidationError({field: _disclosed(items) for field, items in error.error_dict.items()})
    return ValidationError(_disclosed(list(error.error_list)))


def refusal_on_form(
    form: forms.BaseForm,
    error: ValidationError,
    user: AbstractBaseUser | AnonymousUser,
    *,
    not_on: Collection[str] = (),
) -> None:
    """Put a service's refusal on the form where the user acted, as this user may read it: each
    problem under its field when the form has that field and it is not in `not_on` (e.g. a time
    picked from a list rather than typed), the rest at the top of the form."""
    error = disclosed_refusal(error, user)
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields and field not in not_on else None, problems)
