"""The session record's rules through the service: screening stop, safe ranges, sign and lock."""

import pytest
from django.core.exceptions import ValidationError

from patients.models import ConditionRecord
from tests import factories
from treatments.engine import record_rules
from treatments.models import Addendum, Appointment, SessionRecord
from treatments.selectors.session_context import session_context
from treatments.services import recording

pytestmark = pytest.mark.django_db

NO = {}


def screen(session, answers=NO, **kwargs):
    by = kwargs.pop("by", None) or session.practitioner.user
    options = {"consent_confirmed": True, "photos_taken": True, "new_medications": ""} | kwargs
    return recording.session_screen(
        appointment=session, context=session_context(session), answers=answers, by=by, **options
    )


def save_procedure(session, **kwargs):
    return recording.procedure_save(appointment=session, context=session_context(session), **kwargs)


def test_the_checklist_comes_from_the_catalog_rules():
    session = factories.make_session(treatment_slug="mn")
    questions = {q["condition"]: q for q in session_context(session).checklist}
    assert questions["active_infection"]["severity"] == "absolute"
    assert "treated area" in questions["active_infection"]["question"]
    assert "herpes_simplex_active" in questions
    # A condition no rule ties to microneedling is not asked about.
    assert "herpes_simplex_history" not in questions


def test_a_yes_that_rules_the_treatment_out_stops_the_session_and_records_the_finding():
    session = factories.make_session(area_slugs=("cheeks", "forehead"))
    record = screen(session, {"active_infection": True, "sunburn": False})

    assert record.stopped
    assert any("infection" in r["text"].lower() for r in record.stop_reasons)
    session.refresh_from_db()
    assert session.status == Appointment.Status.CANCELLED
    assert session.cancel_reason == recording.STOPPED_REASON
    finding = ConditionRecord.objects.get(patient=session.patient, condition__slug="active_infection")
    assert sorted(a.slug for a in finding.areas.all()) == ["cheeks", "forehead"]
    assert finding.until is None


def test_all_no_puts_the_session_in_progress_and_records_nothing():
    session = factories.make_session()
    record = screen(session, {"active_infection": False})
    assert not record.stopped
    session.refresh_from_db()
    assert session.status == Appointment.Status.IN_PROGRESS
    assert not ConditionRecord.objects.filter(patient=session.patient).exists()
    assert record.screening["questions"][0]["yes"] is False


def test_screening_needs_a_signed_consent_on_file():
    session = factories.make_session(consent=False)
    with pytest.raises(ValidationError) as refused:
        screen(session)
    assert "consent_confirmed" in refused.value.message_dict
    assert not SessionRecord.objects.filter(appointment=session, screened_at__isnull=False).exists()
    session.refresh_from_db()
    assert session.status == Appointment.Status.BOOKED


def test_a_depth_above_the_plans_range_needs_a_reason():
    patient = factories.PatientFactory()
    plan = factories.make_accepted_plan(patient, start=factories_today())
    plan.chosen["items"][0]["option"] = {
        "settings": {"needle_depth_mm": {"cheeks": {"min": 1.5, "max": 2.0}}}
    }
    plan.save()
    session = factories.make_session(patient=patient, plan=plan)
    screen(session)
    values = {"needle_depth_mm": {"cheeks": 2.5}, "passes": 3}

    with pytest.raises(ValidationError) as refused:
        save_procedure(session, values=values, notes="", confirmations={}, by=session.practitioner.user)
    assert "above the safe maximum of 2 mm" in refused.value.message_dict["needle_depth_mm.cheeks"][0]
    assert SessionRecord.objects.get(appointment=session).values == {}

    record = save_procedure(
        session,
        values=values,
        notes="",
        confirmations={"needle_depth_mm.cheeks": "Deep boxcar scars, tolerated well last time"},
        by=session.practitioner.user,
    )
    assert record.values["needle_depth_mm"] == {"cheeks": 2.5}
    assert record.confirmations["needle_depth_mm.cheeks"]["reason"].startswith("Deep boxcar")


def test_without_a_plan_the_catalogs_widest_range_for_the_area_applies():
    session = factories.make_session()
    context = session_context(session)
    assert context.planned_depths == {}
    cheeks = context.limits["needle_depth_mm"]["cheeks"]
    assert cheeks["max"] >= 2.0
    too_deep = {"needle_depth_mm": {"cheeks": cheeks["max"] + 0.5}}
    assert record_rules.out_of_range(too_deep, context.limits, fields=context.record_fields)


def test_signing_locks_the_record_and_completes_the_session():
    session = factories.make_session()
    screen(session)
    by = session.practitioner.user
    with pytest.raises(ValidationError):
        recording.record_sign(appointment=session, aftercare_given=True, by=by)  # nothing recorded yet
    save_procedure(session, values={"passes": 2}, notes="Even erythema", confirmations={}, by=by)
    with pytest.raises(ValidationError) as refused:
        recording.record_sign(appointment=session, aftercare_given=False, by=by)
    assert "aftercare_given" in refused.value.message_dict

    record = recording.record_sign(appointment=session, aftercare_given=True, by=by)
    session.refresh_from_db()
    assert session.status == Appointment.Status.COMPLETED
    assert record.signed_by == by and record.aftercare_given == session.treatment.aftercare_lines()

    with pytest.raises(ValidationError, match="signed"):
        save_procedure(session, values={"passes": 9}, notes="", confirmations={}, by=by)
    with pytest.raises(ValidationError, match="signed"):
        recording.record_sign(appointment=session, aftercare_given=True, by=by)
    assert SessionRecord.objects.get(pk=record.pk).values == {"passes": 2}


def test_a_correction_after_signing_is_an_addendum_with_who_when_and_why():
    session = factories.make_session()
    by = session.practitioner.user
    screen(session)
    record = save_procedure(session, values={"passes": 2}, notes="", confirmations={}, by=by)
    with pytest.raises(ValidationError, match="not signed"):
        recording.addendum_add(record=record, text="x", reason="y", by=by)
    recording.record_sign(appointment=session, aftercare_given=True, by=by)
    with pytest.raises(ValidationError) as refused:
        recording.addendum_add(record=record, text="Passes were 3", reason="", by=by)
    assert "reason" in refused.value.message_dict

    addendum = recording.addendum_add(record=record, text="Passes were 3", reason="Miscounted", by=by)
    assert Addendum.objects.get(pk=addendum.pk).author == by
    assert addendum.created_at is not None
    record.refresh_from_db()
    assert record.values == {"passes": 2}
    # Each step of the record is kept as history.
    assert record.history.count() >= 3


def factories_today():
    from django.utils import timezone

    return timezone.localdate()
