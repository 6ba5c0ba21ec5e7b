import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests import factories
from tests.contract import OPTION_KEYS
from tests.factories import ConcernFactory, PatientFactory
from tests.treatments.test_suggest_plan_command import PROFILE

pytestmark = pytest.mark.django_db
URL = reverse("api-plan-suggest")


def test_clinician_gets_a_plan_per_the_contract(clinician_client):
    response = clinician_client.post(URL, PROFILE, content_type="application/json")
    assert response.status_code == 200
    plan = response.json()
    option = plan["items"][0]["options"][0]
    assert set(option) >= OPTION_KEYS


def test_invalid_profile_is_a_400_with_the_messages(clinician_client):
    response = clinician_client.post(
        URL,
        {
            **PROFILE,
            "conditions": [{"condition": "isotretinoin", "since": "2026-05-01", "until": "2026-04-01"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert any(message.startswith("conditions[0].until") for message in response.json()["errors"])


def test_anonymous_is_asked_to_authenticate(client):
    assert client.post(URL, PROFILE, content_type="application/json").status_code == 401


def test_front_desk_is_refused(front_desk_client):
    assert front_desk_client.post(URL, PROFILE, content_type="application/json").status_code == 403


def test_token_authentication_works_for_integrations(client):
    token = Token.objects.create(user=factories.clinician())
    response = client.post(
        URL, PROFILE, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200


def test_suggestion_for_a_stored_patient(clinician_client):
    concern = ConcernFactory(areas=["cheeks"], patient=PatientFactory(fitzpatrick=2))
    response = clinician_client.get(reverse("api-patient-suggestion", args=[concern.patient.pk]))
    assert response.status_code == 200
    assert response.json()["items"][0]["concern"] == "acne_scars_atrophic"


def test_suggestion_needs_an_assessed_skin_type(clinician_client):
    concern = ConcernFactory(patient=PatientFactory(fitzpatrick=None))
    response = clinician_client.get(reverse("api-patient-suggestion", args=[concern.patient.pk]))
    assert response.status_code == 400
    assert any("fitzpatrick" in message for message in response.json()["errors"])


def test_unknown_fields_are_a_400_naming_them(clinician_client):
    response = clinician_client.post(
        URL,
        {**PROFILE, "patient": {**PROFILE["patient"], "skin": 3}, "extra": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e.startswith("extra: unknown field") for e in errors)
    assert any(e.startswith("patient.skin: unknown field") for e in errors)
