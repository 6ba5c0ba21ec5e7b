"""The plan moves on: signing completes the session and the plan's progress; a stopped session
offers re-booking inside its window; the clinician's day costs the same queries at any size."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from treatments.models import Appointment
from treatments.selectors.progress import concern_scores, plan_progress
from treatments.selectors.session_context import session_context
from treatments.services import recording

pytestmark = pytest.mark.django_db


def done(session, **values):
    by = session.practitioner.user
    factories.screen_clear(session)
    recording.procedure_save(
        appointment=session,
        context=session_context(session),
        values=values or {"passes": 2},
        notes="",
        confirmations={},
        by=by,
    )
    return recording.record_sign(appointment=session, aftercare_given=True, by=by)


def test_signing_a_session_moves_the_plans_progress_on():
    patient = factories.PatientFactory()
    plan = factories.make_accepted_plan(patient, start=timezone.localdate(), sessions=3)
    first, second, _ = plan.planned_sessions.order_by("visit")
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1))
    session = factories.make_session(
        patient=patient, practitioner=practitioner, plan=plan, planned_session=first
    )
    factories.make_session(
        patient=patient,
        practitioner=practitioner,
        plan=plan,
        planned_session=second,
        start=timezone.now() + timedelta(days=28),
        consent=False,
    )
    assert [(p["done"], p["booked"], p["planned"]) for p in plan_progress(patient)] == [(0, 2, 3)]
    done(session)
    assert [(p["done"], p["booked"], p["planned"]) for p in plan_progress(patient)] == [(1, 1, 3)]


def test_scores_make_one_series_per_concern_in_session_order():
    patient = factories.PatientFactory()
    scars = factories.ConcernFactory(patient=patient)
    pores = factories.ConcernFactory(patient=patient, concern=factories.skin_concern("enlarged_pores"))
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1))
    # Both today, whatever the time now (screening is recorded on the session's day).
    today = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    later = factories.make_session(patient=patient, practitioner=practitioner, start=today.replace(hour=22))
    sooner = factories.make_session(
        patient=patient, practitioner=practitioner, start=today.replace(hour=1), consent=False
    )
    for session, score in ((later, 6), (sooner, 3)):
        factories.screen_clear(session)
        recording.outcomes_save(
            appointment=session, scores={scars: (score, score - 1), pores: (1, None)}, by=practitioner.user
        )
    series = {s["label"]: s for s in concern_scores(patient)}
    assert series["Atrophic acne scars"]["clinician"] == [3, 6]
    assert series["Atrophic acne scars"]["patient"] == [2, 5]
    assert series[pores.concern.name]["patient"] == [None, None]


def test_a_stopped_plan_session_offers_rebooking_inside_its_window(front_desk_client):
    patient = factories.PatientFactory()
    plan = factories.make_accepted_plan(patient, start=timezone.localdate(), sessions=2)
    first = plan.planned_sessions.order_by("visit").first()
    session = factories.make_session(patient=patient, plan=plan, planned_session=first)
    factories.screen_clear(session, active_infection=True)
    body = front_desk_client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert "Re-book inside the window" in body
    assert reverse("treatments:plan_book", args=[plan.pk]) in body
    # The planned session is free to book again.
    from treatments.services.booking import plan_sessions_to_book

    assert first in plan_sessions_to_book(plan)


def test_the_session_panel_cannot_complete_a_session_without_its_record(clinician_client, clinician_user):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    session = factories.make_session(practitioner=practitioner, status=Appointment.Status.CHECKED_IN)
    url = reverse("treatments:session_status", args=[session.pk])
    for status in ("in_progress", "completed"):
        response = clinician_client.post(url, {"status": status})
        assert response.status_code == 400
    session.refresh_from_db()
    assert session.status == Appointment.Status.CHECKED_IN
    panel = clinician_client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert "Open the clinical record" in panel


def test_my_day_costs_the_same_queries_for_2_and_8_sessions(clinician_client, clinician_user):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    early = timezone.localtime().replace(hour=7, minute=0, second=0, microsecond=0)

    def add(n, offset):
        for index in range(n):
            patient = factories.PatientFactory()
            factories.ConditionRecordFactory(
                patient=patient, condition=factories.condition("herpes_simplex_history")
            )
            factories.ConcernFactory(patient=patient)
            factories.make_session(
                patient=patient,
                practitioner=practitioner,
                start=early + timedelta(minutes=80 * (offset + index)),
            )

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert clinician_client.get(reverse("treatments:my_day")).status_code == 200
        return len(queries)

    add(2, 0)
    few = count()
    add(6, 2)
    assert count() == few
