"""The patient page, the plan builder and the slot search cost the same queries however long the
patient's history or full the calendar (issue 16): no query per session, score or booking."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from treatments.models import OutcomeScore

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def queries(client, url, **params):
    client.get(url, params)  # the first request of a process reads the catalog into its cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def history(clinician_user):
    """A patient with concerns and a history, and a way to add sessions done with scores."""
    patient = factories.PatientFactory(fitzpatrick=2)
    concern = factories.ConcernFactory(patient=patient, concern=factories.skin_concern("acne_scars_atrophic"))
    factories.ConditionRecordFactory(patient=patient, condition=factories.condition("herpes_simplex_history"))
    doctor = factories.make_practitioner(factories.make_location(rooms=1, pens=1))
    start = datetime.combine(timezone.localdate() - timedelta(days=400), time(10), tzinfo=NY)
    done = []

    def add(count):
        for _ in range(count):
            session = factories.make_session(
                patient=patient,
                practitioner=doctor,
                start=start + timedelta(days=14 * len(done)),
                status="completed",
                area_slugs=("cheeks", "forehead") if len(done) % 2 else ("cheeks",),
                consent=not done,
            )
            OutcomeScore.objects.create(
                appointment=session, concern=concern, clinician_score=3, recorded_by=clinician_user
            )
            done.append(session)

    return patient, add


def test_the_patient_page_reads_a_long_history_in_the_same_queries(clinician_client, history):
    patient, add = history
    add(2)
    few = queries(clinician_client, reverse("patients:detail", args=[patient.pk]))
    add(20)
    assert queries(clinician_client, reverse("patients:detail", args=[patient.pk])) == few


def test_the_plan_builder_reads_a_long_history_in_the_same_queries(clinician_client, history):
    patient, add = history
    add(2)
    few = queries(clinician_client, reverse("treatments:plan_builder", args=[patient.pk]))
    add(20)
    assert queries(clinician_client, reverse("treatments:plan_builder", args=[patient.pk])) == few


def test_the_slot_search_reads_a_full_calendar_in_the_same_queries(front_desk_client):
    location = factories.make_location(rooms=2, pens=2)
    doctors = [factories.make_practitioner(location) for _ in range(3)]
    day = timezone.localdate() + timedelta(days=2)

    def fill(hour):
        for doctor in doctors:
            factories.make_session(
                practitioner=doctor, start=datetime.combine(day, time(hour), tzinfo=NY), consent=False
            )

    url = reverse("api-slots")
    params = {"treatment": "mn", "from": day.isoformat(), "days": 3, "limit": 20}
    fill(9)
    few = queries(front_desk_client, url, **params)
    for hour in (11, 13, 15):
        fill(hour)
    assert queries(front_desk_client, url, **params) == few
