from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from clinic.access_log import note_patient_access
from clinic.roles import CLINICIAN, FRONT_DESK, has_role
from patients.models import Patient

PATIENT_ROLES = (CLINICIAN, FRONT_DESK)


def get_patient(request, pk, *, clinical=False):
    """The patient this user may open. Clinical pages are for clinicians only."""
    if not has_role(request.user, *((CLINICIAN,) if clinical else PATIENT_ROLES)):
        raise PermissionDenied
    patient = get_object_or_404(Patient.objects.select_related("preferred_practitioner"), pk=pk)
    note_patient_access(request, patient.pk)
    return patient
