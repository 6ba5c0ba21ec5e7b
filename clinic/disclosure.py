"""What a user may read of a patient's clinical situation: the one place that decides it.

Clinicians read everything. Others (the front desk, later the patients' portal) learn that a
booking is not possible and that a clinician must review it, never which condition is the reason,
and never a clinician's free text about a plan.
"""

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
