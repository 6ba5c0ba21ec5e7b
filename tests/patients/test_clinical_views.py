import pytest
from django.urls import reverse

from patients.models import Concern, ConditionRecord, PatientConsent
from tests import factories
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _area_ids(*slugs):
    return [a.pk for a in factories.areas(*slugs)]


def test_clinician_records_a_dated_area_limited_condition(clinician_client, clinician_user):
    patient = PatientFactory()
    response = clinician_client.post(
        reverse("patients:condition_create", args=[patient.pk]),
        {
            "condition": factories.condition("active_acne").pk,
            "areas": _area_ids("chin_jaw"),
            "since": "2026-11-01",
            "until": "",
            "notes": "papules",
        },
    )
    assert response.status_code == 302
    record = ConditionRecord.objects.get(patient=patient)
    assert [a.slug for a in record.areas.all()] == ["chin_jaw"]
    assert record.until is None
    assert record.recorded_by == clinician_user


def test_end_date_before_start_shows_an_error_and_writes_nothing(clinician_client):
    patient = PatientFactory()
    response = clinician_client.post(
        reverse("patients:condition_create", args=[patient.pk]),
        {"condition": factories.condition("isotretinoin").pk, "since": "2026-05-01", "until": "2026-04-01"},
    )
    assert response.status_code == 200
    assert "cannot be before the start date" in response.content.decode()
    assert not ConditionRecord.objects.exists()


def test_ending_a_medication_keeps_the_earlier_version_in_history(clinician_client):
    record = factories.ConditionRecordFactory(
        condition=factories.condition("isotretinoin"), since="2026-01-10"
    )
    clinician_client.post(
        reverse("patients:condition_edit", args=[record.patient.pk, record.pk]),
        {"condition": record.condition.pk, "since": "2026-01-10", "until": "2026-08-24"},
    )
    record.refresh_from_db()
    assert str(record.until) == "2026-08-24"
    assert [str(h.until) for h in record.history.order_by("history_id")] == ["None", "2026-08-24"]
    history_page = clinician_client.get(reverse("patients:history", args=[record.patient.pk]))
    assert "2026-08-24" in history_page.content.decode()


def test_clinician_adds_a_concern_with_areas_and_goal(clinician_client):
    patient = PatientFactory()
    clinician_client.post(
        reverse("patients:concern_create", args=[patient.pk]),
        {
            "concern": factories.skin_concern("acne_scars_atrophic").pk,
            "areas": _area_ids("cheeks"),
            "severity": "moderate",
            "goal": "Smoother cheeks for my wedding",
        },
    )
    concern = Concern.objects.get(patient=patient)
    assert concern.goal == "Smoother cheeks for my wedding"
    assert [a.slug for a in concern.areas.all()] == ["cheeks"]


def test_a_concern_needs_an_area(clinician_client):
    patient = PatientFactory()
    response = clinician_client.post(
        reverse("patients:concern_create", args=[patient.pk]),
        {"concern": factories.skin_concern("melasma").pk, "severity": "mild"},
    )
    assert response.status_code == 200
    assert not Concern.objects.exists()


def test_clinician_records_a_signed_consent(clinician_client):
    from patients.models import ConsentForm

    patient = PatientFactory()
    form = ConsentForm.objects.first()
    clinician_client.post(
        reverse("patients:consent_create", args=[patient.pk]),
        {"form": form.pk, "treatment": "mn", "signed_on": "2026-11-20"},
    )
    assert PatientConsent.objects.get(patient=patient).form == form


def test_archived_patients_get_no_new_clinical_records(clinician_client):
    patient = PatientFactory(archived_at="2026-01-01T00:00:00Z")
    response = clinician_client.post(
        reverse("patients:condition_create", args=[patient.pk]),
        {"condition": factories.condition("rosacea").pk},
    )
    assert "archived" in response.content.decode()
    assert not ConditionRecord.objects.exists()


@pytest.mark.parametrize(
    "name", ["condition_create", "concern_create", "consent_create", "clinical_edit", "history"]
)
def test_front_desk_cannot_open_clinical_pages(front_desk_client, name):
    patient = PatientFactory()
    assert front_desk_client.get(reverse(f"patients:{name}", args=[patient.pk])).status_code == 403


def test_front_desk_cannot_post_clinical_records(front_desk_client):
    patient = PatientFactory()
    response = front_desk_client.post(
        reverse("patients:condition_create", args=[patient.pk]),
        {"condition": factories.condition("rosacea").pk},
    )
    assert response.status_code == 403
    assert not ConditionRecord.objects.exists()


def test_clinical_records_of_another_patient_are_404(clinician_client):
    record = factories.ConditionRecordFactory()
    other = PatientFactory()
    url = reverse("patients:condition_edit", args=[other.pk, record.pk])
    assert clinician_client.get(url).status_code == 404
