from django.contrib.auth.models import Group, Permission
from django.db import transaction

from clinic.roles import ROLE_PERMISSIONS, ROLES


@transaction.atomic
def sync_role_permissions(**kwargs):
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = ROLE_PERMISSIONS.get(role, [])
        perms = []
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.add(*perms)
