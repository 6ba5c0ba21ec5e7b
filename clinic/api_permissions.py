from rest_framework.permissions import BasePermission

from clinic.roles import CLINICIAN, FRONT_DESK, has_role


class HasRole(BasePermission):
    """API access by clinic role, the same roles the pages check."""

    roles = ()
    message = "Your role does not include this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and has_role(request.user, *self.roles))


class IsClinician(HasRole):
    roles = (CLINICIAN,)


class IsClinicStaff(HasRole):
    roles = (CLINICIAN, FRONT_DESK)
