"""Reviewing an intake never doubles what the history already holds as ongoing: the review page
says "Already in the history", and confirming keeps the one record, filling only what it lacks."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import services
from patients.models import ConditionRecord, IntakeSubmission, Patient
from tests import factories

pytestmark = pytest.mark.django_db

ALREADY = "Already in the history"


@pytest.fixture
def patient():
    return factories.PatientFactory(date_of_birth=date(1988, 9, 9), other_allergies="Latex")


def _intake(patient, conditions, other_allergies=""):
    return services.intake_submit_from_portal(
        patient=patient,
        answers={"conditions": conditions, "other_allergies": other_allergies},
        by=None,
        now=timezone.now(),
    )[0]


def _url(intake):
    return reverse("patients:intake_review", args=[intake.patient_id, intake.pk])


def _confirm(client, intake, **changes):
    """The review page read and confirmed as it shows, with `changes` ({row: {field: value}})."""
    formset = client.get(_url(intake)).context["formset"]
    data = {
        "entry-TOTAL_FORMS": str(len(formset.forms)),
        "entry-INITIAL_FORMS": str(len(formset.forms)),
        "submitted_at": intake.submitted_at.isoformat(),
    }
    for number, form in enumerate(formset.forms):
        row = {
            "include": "on",
            "condition": form.initial["condition"].pk,
            "since": form.initial.get("since") or "",
            "notes": form.initial.get("notes") or "",
        }
        row.update(changes.get(form.initial["condition"].slug, {}))
        data.update({f"entry-{number}-{key}": value for key, value in row.items() if value is not None})
    return client.post(_url(intake), data, follow=True)


def _records(patient, slug):
    return list(ConditionRecord.objects.filter(patient=patient, condition__slug=slug).order_by("pk"))


def _rows(page: str) -> dict[str, str]:
    """Each row of the review table by the condition it asks about."""
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return {row.split("</td>")[1].strip()[4:].split("<")[0].strip(): row for row in body.split("<tr>")[1:]}


def test_the_page_marks_what_is_already_in_the_history(clinician_client, patient):
    factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("isotretinoin"), since=date(2026, 6, 1)
    )
    # Ended: the history no longer holds it as ongoing, so the answer is news again.
    factories.ConditionRecordFactory(
        patient=patient,
        condition=factories.condition("psoriasis"),
        since=date(2020, 1, 1),
        until=date(2021, 1, 1),
    )
    intake = _intake(patient, {"isotretinoin": {"date": "2026-01-10"}, "rosacea": {}, "psoriasis": {}})
    page = clinician_client.get(_url(intake)).content.decode()
    rows = _rows(page)
    assert set(rows) == {"Isotretinoin", "Rosacea", "Psoriasis"}
    assert ALREADY in rows["Isotretinoin"] and "since 2026-06-01" in rows["Isotretinoin"]
    assert ALREADY not in rows["Rosacea"] and ALREADY not in rows["Psoriasis"]


def test_a_record_with_no_start_date_is_marked_with_the_day_it_was_recorded(clinician_client, patient):
    factories.ConditionRecordFactory(patient=patient, condition=factories.condition("rosacea"))
    intake = _intake(patient, {"rosacea": {}})
    rows = _rows(clinician_client.get(_url(intake)).content.decode())
    assert f"recorded {timezone.localdate().isoformat()}" in rows["Rosacea"]


def test_confirming_keeps_the_ongoing_record_and_creates_only_the_new_item(clinician_client, patient):
    existing = factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("isotretinoin"), since=date(2026, 6, 1), notes="20 mg"
    )
    intake = _intake(
        patient,
        {"isotretinoin": {"date": "2026-01-10", "details": "from my GP"}, "rosacea": {"details": "cheeks"}},
        other_allergies="Latex",
    )
    response = _confirm(clinician_client, intake)
    page = response.content.decode()
    assert "Intake reviewed: 1 entry added to the medical history." in page
    assert "Already in the history, kept as one record: Isotretinoin." in page

    [kept] = _records(patient, "isotretinoin")
    assert kept.pk == existing.pk and kept.source == ConditionRecord.Source.CLINICIAN
    assert kept.since == date(2026, 6, 1), "the clinician's date stays"
    assert kept.until is None
    assert kept.notes == f"20 mg\nFrom the intake of {timezone.localdate().isoformat()}: from my GP"
    [new] = _records(patient, "rosacea")
    assert (new.source, new.notes) == (ConditionRecord.Source.INTAKE, "cheeks")
    assert Patient.objects.get(pk=patient.pk).other_allergies == "Latex", "the same allergy not added twice"
    intake.refresh_from_db()
    assert intake.status == IntakeSubmission.Status.REVIEWED


def test_the_intake_fills_what_the_record_lacks_and_may_end_it(clinician_client, patient):
    existing = factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("isotretinoin")
    )
    intake = _intake(patient, {"isotretinoin": {"date": "2026-01-10", "details": "stopped in August"}})
    _confirm(clinician_client, intake, isotretinoin={"until": "2026-08-24"})
    [kept] = _records(patient, "isotretinoin")
    assert kept.pk == existing.pk
    assert (kept.since, kept.until, kept.notes) == (date(2026, 1, 10), date(2026, 8, 24), "stopped in August")


def test_a_second_intake_repeating_the_first_adds_nothing(clinician_client, patient):
    answers = {"isotretinoin": {"date": "2026-01-10", "details": "20 mg"}}
    _confirm(clinician_client, _intake(patient, answers))
    _confirm(clinician_client, _intake(patient, answers))
    [record] = _records(patient, "isotretinoin")
    assert (record.since, record.notes, record.source) == (date(2026, 1, 10), "20 mg", "intake")
    assert record.history.count() == 1, "nothing new to write, so the record was not touched"


def test_an_episode_that_ended_before_the_ongoing_one_began_is_its_own_record(clinician_client, patient):
    factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("isotretinoin"), since=date(2026, 6, 1)
    )
    intake = _intake(patient, {"isotretinoin": {"date": "2023-02-01", "details": "first course"}})
    _confirm(clinician_client, intake, isotretinoin={"until": "2023-08-01"})
    records = _records(patient, "isotretinoin")
    assert [(r.since, r.until) for r in records] == [
        (date(2026, 6, 1), None),
        (date(2023, 2, 1), date(2023, 8, 1)),
    ]


def test_an_ongoing_record_ending_later_is_still_ongoing(clinician_client, patient):
    later = timezone.localdate() + timedelta(days=30)
    existing = factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("isotretinoin"), since=date(2026, 6, 1), until=later
    )
    intake = _intake(patient, {"isotretinoin": {"date": "2026-06-01"}})
    assert (
        f"until {later.isoformat()}"
        in _rows(clinician_client.get(_url(intake)).content.decode())["Isotretinoin"]
    )
    _confirm(clinician_client, intake)
    assert [r.pk for r in _records(patient, "isotretinoin")] == [existing.pk]


def test_areas_are_added_to_an_area_limited_record_never_to_a_whole_patient_one(clinician_client, patient):
    [cheeks, forehead] = [factories.areas(slug)[0] for slug in ("cheeks", "forehead")]
    limited = factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("rosacea"), areas=["cheeks"]
    )
    whole = factories.ConditionRecordFactory(patient=patient, condition=factories.condition("tattoo"))
    intake = _intake(patient, {"rosacea": {}, "tattoo": {}})
    _confirm(clinician_client, intake, rosacea={"areas": forehead.pk}, tattoo={"areas": forehead.pk})
    assert set(_records(patient, "rosacea")[0].areas.all()) == {cheeks, forehead}
    assert [r.pk for r in _records(patient, "rosacea")] == [limited.pk]
    assert [r.pk for r in _records(patient, "tattoo")] == [whole.pk]
    assert not whole.areas.exists(), "the whole patient stays the whole patient"


def test_the_service_folds_a_repeated_condition_in_one_review_into_one_record(patient):
    intake = _intake(patient, {})
    rosacea = factories.condition("rosacea")
    entry = {"condition": rosacea, "areas": [], "since": date(2026, 2, 1), "until": None, "notes": ""}
    result = services.intake_review(
        intake=intake, accepted=[entry, dict(entry)], by=factories.clinician(), now=timezone.now()
    )
    assert len(result.created) == 1 and result.kept == []
    assert len(_records(patient, "rosacea")) == 1
