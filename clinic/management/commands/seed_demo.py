import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinic.demo import (
    DEMO_USERS,
    PORTAL_PATIENT,
    create_demo_clinic,
    create_demo_patients,
    create_demo_plan,
    create_demo_sessions,
    create_demo_users,
)
from patients.models import Patient


class Command(BaseCommand):
    help = "Load the catalog and demo users, practitioners, rooms, devices and patients (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates users with a known password.")
        call_command("seed_catalog", verbosity=options["verbosity"])
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            users = create_demo_users(password=password)
            create_demo_clinic(users)
            create_demo_patients(today=timezone.localdate(), by=users["clinician"])
            create_demo_sessions(today=timezone.localdate(), by=users["frontdesk"])
            create_demo_plan(today=timezone.localdate(), by=users["clinician"])
        port = os.environ.get("PORT", "8000")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Log in at http://127.0.0.1:{port}/ with:"))
        for username, role, *_ in DEMO_USERS:
            self.stdout.write(f"  {username:<12} / {password}   ({role})")
        patient = Patient.objects.filter(first_name=PORTAL_PATIENT[0], last_name=PORTAL_PATIENT[1]).first()
        if patient is not None:
            self.stdout.write(
                f"Patient portal: http://127.0.0.1:{port}/portal/ as {patient.first_name} {patient.last_name}: "
                f"{patient.email}, born {patient.date_of_birth.isoformat()}. "
                "The sign-in link is printed here (the console e-mail backend); her plan waits for her to sign it."
            )
