"""A booked session that the patient's history now blocks on its day (a condition recorded after
the booking, an intake reviewed) says so on its panel: to the desk without the clinical reason, to a
clinician with the way to the record."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

WARNING = "Needs a clinician's review."


@pytest.fixture
def session():
    start = timezone.now() + timedelta(days=3)
    return factories.make_session(start=start.replace(hour=15, minute=0, second=0, microsecond=0))


def _panel(client, session):
    response = client.get(reverse("treatments:session", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_session_the_history_does_not_block_has_no_warning(front_desk_client, session):
    assert 'data-testid="needs-review"' not in _panel(front_desk_client, session)


def test_isotretinoin_recorded_after_the_booking_asks_for_a_review(
    front_desk_client, clinician_client, session
):
    factories.ConditionRecordFactory(
        patient=session.patient,
        condition=factories.condition("isotretinoin"),
        since=timezone.localdate() - timedelta(days=30),
        until=None,
        areas=[],
    )
    desk = _panel(front_desk_client, session)
    assert 'data-testid="needs-review"' in desk and WARNING in desk
    assert "sotretinoin" not in desk  # the desk never reads the reason
    clinician = _panel(clinician_client, session)
    assert 'data-testid="needs-review"' in clinician
    assert reverse("treatments:session_record", args=[session.pk]) in clinician


def test_a_cancelled_or_past_session_asks_for_nothing(front_desk_client, session):
    factories.ConditionRecordFactory(
        patient=session.patient,
        condition=factories.condition("isotretinoin"),
        since=None,
        until=None,
        areas=[],
    )
    type(session).objects.filter(pk=session.pk).update(status="cancelled")
    assert 'data-testid="needs-review"' not in _panel(front_desk_client, session)
