from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from patients.models import Patient
from treatments.models import Device, Practitioner, Room


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username="clinician").exists()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_sets_the_demo_password(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("seed_demo", verbosity=0)
    counted = (get_user_model(), Patient, Practitioner, Room, Device)
    counts = [model.objects.count() for model in counted]
    call_command("seed_demo", verbosity=0)
    assert [model.objects.count() for model in counted] == counts
    assert counts[1] >= 12 and counts[2] == 2 and counts[3] >= 1
    assert Device.objects.filter(kind__slug="centrifuge").exists()
    for username in ("clinician", "frontdesk", "clinicadmin"):
        user = get_user_model().objects.get(username=username)
        assert user.check_password("demo-pass-123")


@pytest.mark.django_db
def test_the_demo_clinic_has_free_slots_for_every_treatment(settings):
    from django.utils import timezone

    from treatments.models import Treatment
    from treatments.selectors.availability import SlotFinder

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    first = timezone.localdate() + timedelta(days=1)
    missing = [
        t.slug
        for t in Treatment.objects.filter(active=True)
        if not SlotFinder(t).find(first, first + timedelta(days=13), limit=1)
    ]
    assert missing == []


@pytest.mark.django_db
def test_the_demo_books_a_few_sessions_once(settings):
    from treatments.models import Appointment

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    booked = Appointment.objects.count()
    assert booked >= 3
    call_command("seed_demo", verbosity=0)
    assert Appointment.objects.count() == booked


@pytest.mark.django_db
def test_the_demo_sends_a_plan_to_sign_and_says_how_to_try_the_portal(settings, mailoutbox):
    """`make run` leaves a patient whose plan waits in the portal: sign in as she would, sign it."""
    from io import StringIO

    from django.test import Client

    from tests.portal.helpers import sign_in
    from treatments.models import Plan

    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", verbosity=0)
    plan = Plan.objects.get(patient__first_name="Aisha", patient__last_name="Bello")
    assert plan.status == Plan.Status.AWAITING_CONSENT and plan.planned_sessions.exists()
    patient = plan.patient
    printed = out.getvalue()
    assert f"/portal/ as Aisha Bello: {patient.email}, born {patient.date_of_birth.isoformat()}" in printed
    client = Client()
    sign_in(client, patient, mailoutbox)
    home = client.get("/portal/home/").content.decode()
    assert f"/portal/plans/{plan.pk}/consent/" in home
