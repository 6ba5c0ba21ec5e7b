from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.forms import PatientForm
from patients.models import Patient
from tests import factories
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Maya",
    "last_name": "Ortiz",
    "date_of_birth": "1992-07-15",
    "sex": "female",
    "phone": "+1 212 555 0142",
    "email": "maya@example.com",
    "notes": "",
}


def _years_ago(years, days=0):
    today = timezone.localdate()
    return date(today.year - years, today.month, min(today.day, 28)) - timedelta(days=days)


# --- birth date ----------------------------------------------------------------------------------


def test_a_birth_date_in_the_future_is_refused(front_desk_client):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = front_desk_client.post(reverse("patients:create"), {**VALID, "date_of_birth": tomorrow})
    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in response.content.decode()
    assert not Patient.objects.exists()


def test_an_age_over_120_years_is_refused_and_the_message_says_the_range(front_desk_client):
    response = front_desk_client.post(
        reverse("patients:create"), {**VALID, "date_of_birth": _years_ago(121, days=1)}
    )
    body = response.content.decode()
    assert "0 to 120 years" in body
    assert not Patient.objects.exists()


@pytest.mark.parametrize("born", [lambda: timezone.localdate(), lambda: _years_ago(120)])
def test_a_newborn_and_a_120_year_old_are_accepted(born):
    form = PatientForm({**VALID, "date_of_birth": born()})
    assert form.is_valid(), form.errors


def test_editing_also_checks_the_birth_date(front_desk_client):
    patient = PatientFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {**VALID, "date_of_birth": tomorrow}
    response = front_desk_client.post(reverse("patients:edit", args=[patient.pk]), data)
    assert "The date of birth cannot be in the future." in response.content.decode()
    patient.refresh_from_db()
    assert patient.date_of_birth != tomorrow


# --- lengths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_name_too_long_is_an_error_not_truncated(front_desk_client, field):
    response = front_desk_client.post(reverse("patients:create"), {**VALID, field: "A" * 101})
    body = response.content.decode()
    assert "Ensure this value has at most 100 characters (it has 101)." in body
    assert not Patient.objects.exists()


def test_a_phone_too_long_is_an_error(front_desk_client):
    response = front_desk_client.post(reverse("patients:create"), {**VALID, "phone": "1" * 31})
    assert "at most 30 characters" in response.content.decode()
    assert not Patient.objects.exists()


def test_the_form_fields_carry_the_model_lengths():
    form = PatientForm()
    for name in ("first_name", "last_name", "phone", "email"):
        assert form.fields[name].max_length == Patient._meta.get_field(name).max_length


def test_a_name_of_exactly_100_characters_is_kept_whole(front_desk_client):
    front_desk_client.post(reverse("patients:create"), {**VALID, "last_name": "B" * 100})
    assert Patient.objects.get().last_name == "B" * 100


# --- possible duplicates -------------------------------------------------------------------------


def test_same_name_any_case_and_birth_date_shows_a_warning_with_a_link(front_desk_client):
    existing = PatientFactory(
        first_name="MAYA", last_name="ortiz", date_of_birth=date(1992, 7, 15), phone="+44 20 7946 0000"
    )
    response = front_desk_client.post(reverse("patients:create"), VALID)
    assert response.status_code == 200
    body = response.content.decode()
    assert "may already be registered" in body
    assert reverse("patients:detail", args=[existing.pk]) in body
    assert "This is a different person" in body
    assert 'type="checkbox" name="different_person"' in body
    assert Patient.objects.count() == 1


def test_same_phone_written_differently_shows_a_warning(front_desk_client):
    existing = PatientFactory(first_name="Ana", last_name="Lopez", phone="(212) 555-0142")
    response = front_desk_client.post(reverse("patients:create"), VALID)
    body = response.content.decode()
    assert "may already be registered" in body
    assert reverse("patients:detail", args=[existing.pk]) in body
    assert Patient.objects.count() == 1


def test_ticking_different_person_registers_anyway(front_desk_client):
    PatientFactory(first_name="Maya", last_name="Ortiz", date_of_birth=date(1992, 7, 15))
    response = front_desk_client.post(reverse("patients:create"), {**VALID, "different_person": "on"})
    assert response.status_code == 302
    assert Patient.objects.filter(last_name="Ortiz").count() == 2


def test_no_warning_for_a_different_birth_date_and_phone(front_desk_client):
    PatientFactory(
        first_name="Maya", last_name="Ortiz", date_of_birth=date(1990, 1, 1), phone="+44 20 7946 0000"
    )
    response = front_desk_client.post(reverse("patients:create"), VALID)
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_the_checkbox_is_not_shown_before_a_duplicate_is_found(front_desk_client):
    body = front_desk_client.get(reverse("patients:create")).content.decode()
    assert 'type="checkbox" name="different_person"' not in body


def test_editing_a_patient_does_not_warn_about_themselves(front_desk_client):
    patient = PatientFactory(**{k: v for k, v in VALID.items() if k != "notes"})
    response = front_desk_client.post(reverse("patients:edit", args=[patient.pk]), VALID)
    assert response.status_code == 302


def test_the_warning_links_by_id_and_puts_no_name_in_a_url(front_desk_client):
    existing = PatientFactory(first_name="Maya", last_name="Ortiz", date_of_birth=date(1992, 7, 15))
    body = front_desk_client.post(reverse("patients:create"), VALID).content.decode()
    hrefs = [part.split('"', 1)[0] for part in body.split('href="')[1:]]
    assert reverse("patients:detail", args=[existing.pk]) in hrefs
    assert not [href for href in hrefs if "Ortiz" in href or "Maya" in href]


# --- staff names ---------------------------------------------------------------------------------


def test_preferred_practitioner_choices_show_first_and_last_name():
    named = factories.clinician(username="dr.lee", first_name="Hana", last_name="Lee")
    unnamed = factories.clinician(username="locum7", first_name="", last_name="")
    labels = dict(PatientForm().fields["preferred_practitioner"].choices)
    labels = {str(value): label for value, label in labels.items()}
    assert labels[str(named.pk)] == "Hana Lee"
    assert labels[str(unnamed.pk)] == "locum7"
