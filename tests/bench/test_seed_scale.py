"""seed_scale builds a small chain through the app's rules, and refuses a database with patients."""

import pytest
from django.core.management import CommandError, call_command

from patients.models import Patient
from tests.factories import PatientFactory
from treatments.models import Appointment, Plan

pytestmark = pytest.mark.django_db


def test_a_database_with_patients_is_refused_with_one_line():
    PatientFactory()
    # From a shell this is one line on stderr and exit status 2 (CommandError's returncode).
    with pytest.raises(CommandError) as refused:
        call_command("seed_scale", "--patients", "5")
    assert refused.value.returncode == 2
    assert "\n" not in str(refused.value) and "--force" in str(refused.value)
    assert Patient.objects.count() == 1


@pytest.mark.postgres
def test_a_small_chain_is_built_and_passes_the_booking_rules(capsys):
    call_command(
        "seed_scale",
        "--patients", "60",
        "--practitioners", "3",
        "--locations", "1",
        "--days", "6",
        "--sessions-per-day", "12",
        "--service-plans", "4",
        "--long-history", "8",
        "--check", "20",
    )  # fmt: skip
    assert Patient.objects.count() >= 60
    assert Plan.objects.exists() and Appointment.objects.count() > 20
    out = capsys.readouterr().out
    assert "0 problems" in out or "problems: 0" in out.lower(), out
