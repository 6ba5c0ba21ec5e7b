"""The intake questionnaire in the portal (issue 17): the tablet's questions, filled in by the patient
at home, waiting for a clinician's review before anything enters the history."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic import portal_intake
from clinic.models import AccessLogEntry
from patients import services
from patients.intake import question_text
from patients.models import ConditionRecord, IntakeSubmission, Patient
from tests import factories

pytestmark = pytest.mark.django_db

INVITE = "Tell us about your health before your first visit"
ANSWERS = {
    "yes_isotretinoin": "on",
    "date_isotretinoin": "2026-01-10",
    "details_isotretinoin": "PORTAL-DETAILS-MARK stopped in August",
    "medications": "PORTAL-MEDS-MARK",
    "other_allergies": "PORTAL-ALLERGY-MARK plasters",
}


@pytest.fixture
def patient():
    return factories.PatientFactory(first_name="Ines", date_of_birth=date(1988, 9, 9))


def _history(patient):
    """What the clinic's history holds of the patient: condition records and the allergy text."""
    records = sorted(
        ConditionRecord.objects.filter(patient=patient).values_list("condition__slug", "notes", "source")
    )
    return records, Patient.objects.get(pk=patient.pk).other_allergies


def _review(client, intake, *, submitted_at=None, include=True):
    """The clinician's review page, read and confirmed as it is (with the version it was read at)."""
    url = reverse("patients:intake_review", args=[intake.patient_id, intake.pk])
    page = client.get(url)
    assert page.status_code == 200
    formset = page.context["formset"]
    data = {
        "entry-TOTAL_FORMS": str(len(formset.forms)),
        "entry-INITIAL_FORMS": str(len(formset.forms)),
        "submitted_at": (submitted_at or intake.submitted_at).isoformat(),
    }
    for number, form in enumerate(formset.forms):
        data[f"entry-{number}-condition"] = form.initial["condition"].pk
        data[f"entry-{number}-since"] = form.initial.get("since") or ""
        data[f"entry-{number}-notes"] = form.initial.get("notes") or ""
        if include:
            data[f"entry-{number}-include"] = "on"
    return client.post(url, data)


def test_before_the_first_visit_the_home_page_invites_the_patient_to_the_questionnaire(
    patient_client, patient
):
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert INVITE in page and reverse("portal:intake") in page
    factories.make_session(patient=patient, status="completed", start=timezone.now() - timedelta(days=3))
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert INVITE not in page, "a patient who has had a visit is not asked before a first visit"


def test_the_page_asks_the_tablets_questions_and_logs_the_look(patient_client, patient):
    response = patient_client.get(reverse("portal:intake"), REMOTE_ADDR="10.4.4.4")
    assert response.status_code == 200
    page = response.content.decode()
    questions = services.intake_questions()
    assert len(questions) > 20
    for condition in questions:
        assert f'name="yes_{condition.slug}"' in page
    form = response.context["form"]
    assert [c.slug for c in form.conditions] == [c.slug for c in questions]
    assert {field.label for name, field in form.fields.items() if name.startswith("yes_")} == {
        question_text(c) for c in questions
    }
    assert 'name="csrfmiddlewaretoken"' in page and 'name="viewport"' in page
    entry = AccessLogEntry.objects.get()
    assert (entry.kind, entry.view_name, entry.patient_id, entry.ip_address) == (
        "portal",
        "portal:intake",
        patient.pk,
        "10.4.4.4",
    )


def test_the_answers_wait_for_review_and_enter_the_history_only_when_a_clinician_confirms_them(
    patient_client, patient, clinician_client
):
    factories.ConditionRecordFactory(patient=patient)
    before = _history(patient)
    response = patient_client.post(reverse("portal:intake"), ANSWERS)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    intake = IntakeSubmission.objects.get(patient=patient)
    assert (intake.source, intake.status, intake.reviewed_by) == ("portal", "pending", None)
    assert intake.submitted_at is not None and intake.handed_out_by is None
    assert intake.answers["conditions"] == {
        "isotretinoin": {"date": "2026-01-10", "details": "PORTAL-DETAILS-MARK stopped in August"}
    }
    assert intake.answers["medications"] == "PORTAL-MEDS-MARK"
    assert _history(patient) == before, "the patient's answers entered the history unreviewed"
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Your answers are waiting for the clinic&#x27;s review." in home
    assert "Your answers were sent to the clinic" in home  # the message after the post
    assert INVITE not in home

    assert _review(clinician_client, intake).status_code == 302
    records, allergies = _history(patient)
    assert records != before[0]
    assert ("isotretinoin", "PORTAL-DETAILS-MARK stopped in August", "intake") in records
    assert "PORTAL-ALLERGY-MARK plasters" in allergies
    intake.refresh_from_db()
    assert intake.status == "reviewed" and intake.reviewed_at is not None
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "waiting for the clinic" not in home and INVITE not in home


def test_waiting_answers_can_be_changed_and_stay_one_intake(patient_client, patient):
    patient_client.post(reverse("portal:intake"), ANSWERS)
    first = IntakeSubmission.objects.get(patient=patient)
    page = patient_client.get(reverse("portal:intake"))
    text = page.content.decode()
    assert "Your answers are waiting for the clinic&#x27;s review." in text
    assert "Send my changed answers" in text
    assert page.context["form"]["yes_isotretinoin"].value() is True
    assert "PORTAL-MEDS-MARK" in text and 'value="2026-01-10"' in text

    response = patient_client.post(reverse("portal:intake"), {"yes_rosacea": "on", "medications": "none"})
    assert response.status_code == 302
    intake = IntakeSubmission.objects.get(patient=patient)
    assert intake.pk == first.pk and intake.status == "pending"
    assert list(intake.answers["conditions"]) == ["rosacea"] and intake.answers["medications"] == "none"
    assert intake.submitted_at >= first.submitted_at
    assert "Your changed answers were sent" in patient_client.get(reverse("portal:home")).content.decode()


def test_once_reviewed_new_answers_start_a_new_intake(patient_client, patient, clinician_client):
    patient_client.post(reverse("portal:intake"), ANSWERS)
    first = IntakeSubmission.objects.get(patient=patient)
    _review(clinician_client, first)
    page = patient_client.get(reverse("portal:intake")).content.decode()
    assert "The clinic reviewed your answers" in page and "waiting for the clinic" not in page
    assert 'name="yes_isotretinoin" id="id_yes_isotretinoin" checked' not in page  # a fresh form
    patient_client.post(reverse("portal:intake"), {"yes_rosacea": "on"})
    intakes = IntakeSubmission.objects.filter(patient=patient).order_by("pk")
    assert [(i.pk == first.pk, i.status, i.source) for i in intakes] == [
        (True, "reviewed", "portal"),
        (False, "pending", "portal"),
    ]
    assert "isotretinoin" in intakes[0].answers["conditions"], "the reviewed answers are kept as they were"


def test_a_review_of_answers_the_patient_changed_meanwhile_is_refused(
    patient_client, patient, clinician_client
):
    patient_client.post(reverse("portal:intake"), ANSWERS)
    intake = IntakeSubmission.objects.get(patient=patient)
    read_at = intake.submitted_at
    patient_client.post(reverse("portal:intake"), {"yes_rosacea": "on", "other_allergies": "CHANGED"})
    response = _review(clinician_client, intake, submitted_at=read_at)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:intake_review", args=[patient.pk, intake.pk])
    assert not ConditionRecord.objects.filter(patient=patient).exists()
    intake.refresh_from_db()
    assert intake.status == "pending"
    page = clinician_client.get(response["Location"]).content.decode()
    assert "The patient changed these answers" in page and "CHANGED" in page
    assert _review(clinician_client, intake).status_code == 302
    assert list(
        ConditionRecord.objects.filter(patient=patient).values_list("condition__slug", flat=True)
    ) == ["rosacea"]


def test_a_refused_answer_keeps_what_was_typed_and_saves_nothing(patient_client, patient):
    response = patient_client.post(
        reverse("portal:intake"), {**ANSWERS, "date_isotretinoin": "not a date", "details_rosacea": "x" * 301}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid date." in page and "PORTAL-MEDS-MARK" in page
    assert not IntakeSubmission.objects.exists()


def test_the_staff_see_where_the_answers_came_from_and_the_front_desk_no_answers(
    patient_client, patient, clinician_client
):
    patient_client.post(reverse("portal:intake"), ANSWERS)
    intake = IntakeSubmission.objects.get(patient=patient)
    detail = clinician_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "From the patient portal" in detail and "submitted, waiting for review" in detail
    review = clinician_client.get(reverse("patients:intake_review", args=[patient.pk, intake.pk]))
    assert "From the patient portal" in review.content.decode()
    assert "PORTAL-MEDS-MARK" in review.content.decode()

    desk = Client()
    desk.force_login(factories.front_desk())
    for url in (
        reverse("patients:detail", args=[patient.pk]),
        reverse("patients:intake_handout", args=[patient.pk, intake.pk]),
    ):
        page = desk.get(url).content.decode()
        assert "waiting for" in page
        assert "PORTAL-" not in page, f"an answer on {url} for the front desk"
        assert intake.code not in page, "a submitted intake has no code to hand out"
    assert desk.get(reverse("patients:intake_review", args=[patient.pk, intake.pk])).status_code == 403


def test_a_portal_intakes_code_does_not_open_the_tablet(patient_client, patient, client):
    patient_client.post(reverse("portal:intake"), ANSWERS)
    intake = IntakeSubmission.objects.get(patient=patient)
    tablet = Client()
    response = tablet.post(reverse("intake_enter"), {"code": intake.code})
    assert response.status_code == 200 and services.INTAKE_ALREADY_SUBMITTED in response.content.decode()
    assert tablet.get(reverse("intake_fill", args=[intake.token])).status_code == 410


def test_a_tablet_intake_waiting_for_review_is_the_one_the_portal_changes(patient_client, patient):
    """One intake waits at a time: answers given on the tablet are changed from home, not doubled."""
    tablet = services.intake_start(patient=patient, by=factories.front_desk(), now=timezone.now())
    services.intake_submit(intake=tablet, answers={"conditions": {"rosacea": {}}}, now=timezone.now())
    page = patient_client.get(reverse("portal:intake"))
    assert page.context["form"]["yes_rosacea"].value() is True
    patient_client.post(reverse("portal:intake"), {"yes_psoriasis": "on"})
    intake = IntakeSubmission.objects.get(patient=patient)
    assert intake.pk == tablet.pk and intake.source == "portal"
    assert list(intake.answers["conditions"]) == ["psoriasis"]
    # A handed-out code nobody used yet is not an intake waiting for review.
    services.intake_start(patient=patient, by=factories.front_desk(), now=timezone.now())
    assert services.pending_intake(patient.pk).pk == tablet.pk


def test_the_home_card_follows_the_intake(patient):
    now = timezone.now()
    assert portal_intake.home_context(patient.pk, now) == {"intake_invite": True}
    intake, replaced = services.intake_submit_from_portal(patient=patient, answers={}, by=None, now=now)
    assert not replaced
    assert portal_intake.home_context(patient.pk, now) == {
        "intake_waiting": portal_intake.WAITING,
        "intake_sent_at": intake.submitted_at,
    }
    services.intake_review(intake=intake, accepted=[], by=factories.clinician(), now=now)
    assert portal_intake.home_context(patient.pk, now) == {}


def test_staff_and_visitors_are_sent_to_the_portal_sign_in(clinician_client, client):
    for visitor in (clinician_client, Client()):
        response = visitor.get(reverse("portal:intake"))
        assert response.status_code == 302 and response["Location"] == reverse("portal:start")
        assert visitor.post(reverse("portal:intake"), ANSWERS)["Location"] == reverse("portal:start")
    assert not IntakeSubmission.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_make_one_waiting_intake():
    """Two tabs (or a double tap) sending at the same moment: the patient's row is locked, so the
    second replaces the first's answers instead of making a second intake to review."""
    for _ in range(3):
        patient = factories.PatientFactory()
        barrier = threading.Barrier(2)
        errors: list[Exception] = []

        def send(slug, patient=patient, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                services.intake_submit_from_portal(
                    patient=patient, answers={"conditions": {slug: {}}}, by=None, now=timezone.now()
                )
            except Exception as error:
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=send, args=(slug,)) for slug in ("rosacea", "psoriasis")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        intakes = list(IntakeSubmission.objects.filter(patient=patient))
        assert len(intakes) == 1 and intakes[0].status == "pending"
        assert list(intakes[0].answers["conditions"]) in (["rosacea"], ["psoriasis"])
