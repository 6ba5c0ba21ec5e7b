"""Sessions done in the clinic count toward the repeat floors, like procedures done elsewhere."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.models import Patient
from tests import factories
from treatments.selectors.patient_profile import profile_for_patient, profiled
from treatments.selectors.plan_suggestions import suggest_for_patient

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 22)


def _done(
    patient, day, *, treatment_slug="mn", status="completed", area_slugs=("cheeks",), practitioner=None
):
    start = timezone.make_aware(datetime.combine(day, time(10)))
    return factories.make_session(
        patient=patient,
        treatment_slug=treatment_slug,
        area_slugs=area_slugs,
        start=start,
        status=status,
        practitioner=practitioner,
    )


def _scars(patient):
    factories.ConcernFactory(patient=patient, concern=factories.skin_concern("acne_scars_atrophic"))


def _mn_status(patient):
    result = suggest_for_patient(patient, today=TODAY)
    assert result.suggestion is not None, result.problems
    item = result.suggestion.items[0]
    return {(o.status.value, o.earliest_start) for o in item.options if o.treatment == "mn"}


def test_a_session_done_here_becomes_a_recent_procedure_of_its_area():
    patient = factories.PatientFactory()
    _done(patient, TODAY - timedelta(days=5), treatment_slug="mn_prp")
    records = profile_for_patient(patient, today=TODAY)["conditions"]
    assert {(r["condition"], tuple(r["areas"]), r["since"]) for r in records} == {
        ("recent_microneedling", ("cheeks",), "2026-11-17"),
        ("recent_prp", ("cheeks",), "2026-11-17"),
    }


@pytest.mark.parametrize(
    ("days_ago", "status", "expected"),
    [
        # MN -> MN 14 d [ALAM14][HAR15]: 5 days ago defers; the 14th day is allowed.
        (5, "completed", {("deferred", date(2026, 12, 1))}),
        (14, "completed", {("ok", TODAY)}),
        (5, "in_progress", {("deferred", date(2026, 12, 1))}),
        # Cancelled sessions and no-shows were not done.
        (5, "cancelled", {("ok", TODAY)}),
        (5, "no_show", {("ok", TODAY)}),
    ],
)
def test_sessions_done_in_the_app_count_toward_the_repeat_floor(days_ago, status, expected):
    patient = factories.PatientFactory(fitzpatrick=2)
    _scars(patient)
    _done(patient, TODAY - timedelta(days=days_ago), status=status)
    assert _mn_status(patient) == expected


def test_a_session_on_the_day_itself_does_not_count_against_itself():
    patient = factories.PatientFactory()
    _done(patient, TODAY, status="in_progress")
    assert profile_for_patient(patient, today=TODAY)["conditions"] == []


def test_a_measured_value_reaches_the_profile():
    patient = factories.PatientFactory()
    factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("thrombocytopenia"), value=Decimal("45")
    )
    (record,) = profile_for_patient(patient, today=TODAY)["conditions"]
    assert record["value"] == 45.0


def test_prefetched_profiles_read_sessions_without_queries_of_their_own():
    patient = factories.PatientFactory()
    _done(patient, TODAY - timedelta(days=5), treatment_slug="mn_prp")
    other = factories.PatientFactory()
    factories.ConditionRecordFactory(patient=other, condition=factories.condition("rosacea"))
    with CaptureQueriesContext(connection) as loading:
        loaded = {p.pk: p for p in profiled(Patient.objects.filter(pk__in=[patient.pk, other.pk]))}
    with CaptureQueriesContext(connection) as queries:
        records = profile_for_patient(loaded[patient.pk], today=TODAY)["conditions"]
        others = profile_for_patient(loaded[other.pk], today=TODAY)["conditions"]
    assert len(queries) == 0 and len(loading) <= 7  # patients, 2 + 2 + 1 prefetches, the sessions
    assert {r["condition"] for r in records} == {"recent_microneedling", "recent_prp"}
    assert [r["condition"] for r in others] == ["rosacea"]
    assert records == profile_for_patient(patient, today=TODAY)["conditions"]


def test_only_the_latest_session_of_an_event_on_the_same_areas_is_kept():
    patient = factories.PatientFactory(fitzpatrick=2)
    _scars(patient)
    doctor = factories.make_practitioner(factories.make_location())
    for days_ago in (40, 26, 12):
        _done(patient, TODAY - timedelta(days=days_ago), practitioner=doctor)
    _done(patient, TODAY - timedelta(days=20), area_slugs=("forehead",), practitioner=doctor)
    records = profile_for_patient(patient, today=TODAY)["conditions"]
    assert [(r["condition"], r["areas"], r["since"]) for r in records] == [
        ("recent_microneedling", ["forehead"], "2026-11-02"),
        ("recent_microneedling", ["cheeks"], "2026-11-10"),
    ]
    # The latest session on the cheeks decides: 12 days ago, so 2 days more to the 14-day floor.
    assert _mn_status(patient) == {("deferred", date(2026, 11, 24))}
