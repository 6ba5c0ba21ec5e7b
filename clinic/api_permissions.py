from rest_framework.permissions import BasePermission

from clinic.roles import CLINICIAN, FRONT_DESK, ROLES, has_role


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


class IsStaff(HasRole):
    """Any clinic role: the API's schema and docs are not for accounts without one."""

    roles = ROLES
