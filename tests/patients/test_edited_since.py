"""Two people edit the same record: the second save is refused, names who changed what, keeps the typing (issue 14)."""

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import ConditionRecord, Patient
from tests import factories

pytestmark = pytest.mark.django_db


def opened(client, url):
    """The form's fields as the page shows them, ready to post back."""
    form = client.get(url).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value.pk) if hasattr(value, "pk") else str(value)
    return data


def desk(first_name):
    client = Client()
    client.force_login(factories.front_desk(first_name=first_name, last_name="Desk"))
    return client


def test_a_second_desk_saving_stale_details_is_refused_with_who_and_what(catalog):
    patient = factories.PatientFactory(phone="555-0100", email="old@example.com")
    url = reverse("patients:edit", args=[patient.pk])
    anna, ben = desk("Anna"), desk("Ben")
    annas, bens = opened(anna, url), opened(ben, url)

    assert anna.post(url, {**annas, "phone": "555-0199"}).status_code == 302
    response = ben.post(url, {**bens, "email": "new@example.com"})
    page = response.content.decode()
    assert "Anna Desk changed this" in page and "phone" in page
    assert "new@example.com" in page
    patient.refresh_from_db()
    assert (patient.phone, patient.email) == ("555-0199", "old@example.com")

    again = response.context["form"]
    retry = {
        **bens,
        "email": "new@example.com",
        "phone": "555-0199",
        "seen_version": again["seen_version"].value(),
    }
    assert ben.post(url, retry).status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.email) == ("555-0199", "new@example.com")


def test_a_medical_history_entry_edited_twice_at_once_keeps_the_first_change(catalog):
    record = factories.ConditionRecordFactory(notes="first note")
    url = reverse("patients:condition_edit", args=[record.patient_id, record.pk])
    first, second = Client(), Client()
    first.force_login(factories.clinician(first_name="Maya", last_name="Cole"))
    second.force_login(factories.clinician())
    firsts, seconds = opened(first, url), opened(second, url)
    assert first.post(url, {**firsts, "notes": "flare on the chin"}).status_code == 302
    response = second.post(url, {**seconds, "notes": "resolved"})
    assert "Maya Cole changed this" in response.content.decode()
    assert ConditionRecord.objects.get(pk=record.pk).notes == "flare on the chin"


def test_an_untouched_form_saves_as_before(catalog):
    patient = factories.PatientFactory(fitzpatrick=2)
    url = reverse("patients:clinical_edit", args=[patient.pk])
    client = Client()
    client.force_login(factories.clinician())
    assert client.post(url, {**opened(client, url), "other_allergies": "latex"}).status_code == 302
    assert Patient.objects.get(pk=patient.pk).other_allergies == "latex"
