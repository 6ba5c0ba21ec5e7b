"""The front desk learns that a booking is not possible, never which condition is why (issue 13)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.disclosure import CLINICIAN_MUST_REVIEW
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused_booking(catalog):
    """A microneedling booking for a patient with a keloid tendency, which the catalog rules out."""
    patient = factories.PatientFactory()
    factories.ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"))
    practitioner = factories.make_practitioner(factories.make_location())
    when = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    return {
        "patient": patient.pk,
        "treatment": "mn",
        "areas": ["cheeks"],
        "practitioner": practitioner.pk,
        "start": when.isoformat(),
    }


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_refused_api_booking_tells_the_desk_a_clinician_must_review(front_desk_user, refused_booking):
    response = logged_in(front_desk_user).post(
        "/api/sessions/", refused_booking, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert CLINICIAN_MUST_REVIEW in body
    assert "eloid" not in body


def test_a_clinician_reads_the_condition_in_the_same_refusal(clinician_user, refused_booking):
    response = logged_in(clinician_user).post(
        "/api/sessions/", refused_booking, content_type="application/json"
    )
    assert response.status_code == 400
    assert "eloid" in response.content.decode()


def test_a_closed_plans_reason_is_for_clinicians_only(front_desk_user, clinician_user, catalog):
    plan = factories.make_accepted_plan(factories.PatientFactory(), start=timezone.localdate())
    plan.status, plan.closed_at, plan.close_reason = (
        "closed",
        timezone.now(),
        "Worried about her keloid history",
    )
    plan.save()
    url = reverse("treatments:plan_detail", args=[plan.pk])
    desk_page = logged_in(front_desk_user).get(url).content.decode()
    assert "keloid" not in desk_page and "closed" in desk_page
    assert "keloid history" in logged_in(clinician_user).get(url).content.decode()
