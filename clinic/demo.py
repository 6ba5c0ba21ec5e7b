"""Demo data for trying the app locally: users for each role (the rest is added by each app)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK

DEMO_USERS = [
    # username, role, first name, last name, staff (may open the Django admin)
    ("clinician", CLINICIAN, "Dana", "Lee", False),
    ("clinician2", CLINICIAN, "Sam", "Okafor", False),
    ("frontdesk", FRONT_DESK, "Robin", "Meyer", False),
    ("clinicadmin", CLINIC_ADMIN, "Alex", "Novak", True),
]


def create_demo_users(*, password):
    User = get_user_model()
    users = {}
    for username, role, first, last, staff in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@clinic.example",
                "is_staff": staff,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users
