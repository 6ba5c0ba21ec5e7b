"""The pre-visit questions in the patient's words: each checklist question is asked in the catalog
condition's patient wording (the intake questionnaire's) with the time and place the checklist
asks about, stored with the questions so that the clinician sees what the patient answered,
grouped under short headings on the phone; the answers are judged exactly as before."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic.portal_previsit import GROUPS, OTHER_GROUP
from patients.models import MedicalCondition
from tests import factories
from treatments.engine import screening
from treatments.models import PreVisitCheck
from treatments.selectors.patient_profile import profile_for_patient
from treatments.selectors.plan_suggestions import current_catalog
from treatments.selectors.session_context import area_slugs, session_context, session_day
from treatments.services.previsit import (
    patient_question,
    previsit_answer,
    previsit_open,
    questions_for,
    with_patient_wording,
)

pytestmark = pytest.mark.django_db

STOPPING = "herpes_simplex_active"
# The patient's words the seeded catalog gives a few of microneedling's questions, and the
# clinician's words they replace.
PATIENT_WORDS = {
    STOPPING: "Do you have a cold sore right now, on or near the area to be treated?",
    "dermal_filler": "In the last 2 weeks, have you had filler injections where you want treatment?",
    "pregnancy": "Right now, are you pregnant, or could you be?",
    "keloid_tendency": "Do your scars tend to become thick, raised or lumpy (keloid scars)?",
}
CLINICIAN_WORDS = [
    "Cold sore in the treated area now?",
    "Dermal filler in the treated area in the last 14 days?",
    "Pregnancy now?",
    "Keloid tendency?",
]


@pytest.fixture
def patient():
    return factories.PatientFactory(
        first_name="Ines", email="ines@example.com", date_of_birth=date(1988, 9, 2)
    )


@pytest.fixture
def doctor(clinician_user):
    return factories.make_practitioner(factories.make_location(rooms=2, pens=2), user=clinician_user)


@pytest.fixture
def session(patient, doctor):
    start = (timezone.now() + timedelta(hours=24)).replace(second=0, microsecond=0)
    return factories.make_session(patient=patient, practitioner=doctor, start=start)


def url(session):
    return reverse("portal:previsit", args=[session.pk])


def all_no(questions, **yes):
    answers = {f"q_{q['condition']}": "no" for q in questions}
    answers.update({f"q_{slug}": "yes" for slug in yes})
    return answers


def legends(html):
    return re.findall(r"<legend[^>]*>(.*?)</legend>", html, re.DOTALL)


# The patient's words


def test_the_page_asks_in_the_patients_words_not_the_clinicians(patient_client, session):
    page = patient_client.get(url(session)).content.decode()
    for words in PATIENT_WORDS.values():
        assert escape(words) in page
    for words in [*CLINICIAN_WORDS, "Anticoagulant", "antiviral prophylaxis", "in the treated area"]:
        assert words not in page
    # Every question the page asks is one of the stored patient's wordings.
    check = PreVisitCheck.objects.get(appointment=session)
    assert sorted(legends(page)) == sorted(escape(q["patient_question"]) for q in check.questions)


def test_the_stored_questions_carry_the_patients_wording_and_the_clinicians(session):
    check = previsit_open(session=session)
    checklist = screening.checklist(current_catalog().engine, "mn")
    assert [q["condition"] for q in check.questions] == [q["condition"] for q in checklist]
    assert [q["question"] for q in check.questions] == [q["question"] for q in checklist]
    for question in check.questions:
        assert question["patient_question"] and question["patient_question"] != question["question"]
        assert question["kind"] == MedicalCondition.objects.get(slug=question["condition"]).kind
    worded = {q["condition"]: q["patient_question"] for q in check.questions}
    for slug, words in PATIENT_WORDS.items():
        assert worded[slug] == words


def test_an_admins_patient_wording_comes_first(session):
    MedicalCondition.objects.filter(slug=STOPPING).update(intake_question="Any cold sore or blister today")
    check = previsit_open(session=session)
    words = next(q["patient_question"] for q in check.questions if q["condition"] == STOPPING)
    # The admin's words, as a question, placed on the area to be treated.
    assert words == "Any cold sore or blister today, on or near the area to be treated?"


def test_the_time_and_the_place_come_from_the_checklist_question():
    event = MedicalCondition(slug="x", name="Recent thing", kind="event", area_specific=True)
    event.intake_question = "Have you had a thing done recently where you want treatment?"
    assert (
        patient_question("Recent thing in the treated area in the last 182 days?", event)
        == "In the last 6 months, have you had a thing done where you want treatment?"
    )
    assert patient_question("Recent thing in the treated area in the last 10 days?", event).startswith(
        "In the last 10 days, "
    )
    skin = MedicalCondition(slug="y", name="Spots", kind="skin", area_specific=True)
    skin.intake_question = "Do you have spots?"
    assert (
        patient_question("Spots in the treated area now?", skin)
        == "Right now, do you have spots, on or near the area to be treated?"
    )
    trait = MedicalCondition(slug="z", name="Tendency", kind="trait", area_specific=False)
    trait.intake_question = "Do you have a tendency?"
    assert patient_question("Tendency?", trait) == "Do you have a tendency?"


def test_a_condition_without_patient_wording_is_asked_from_its_name_never_its_description():
    condition = MedicalCondition(
        slug="not_in_the_vocabulary",
        name="Frobnication",
        kind="event",
        area_specific=True,
        description="Needs antiviral prophylaxis before resurfacing.",
    )
    words = patient_question("Frobnication in the treated area in the last 30 days?", condition)
    assert words == "In the last month, have you had frobnication, on or near the area to be treated?"
    medicine = MedicalCondition(
        slug="not_in_the_vocabulary_2", name="Frobnicil", kind="medication", description="A drug."
    )
    assert patient_question("Frobnicil now?", medicine) == "Right now, do you take or use frobnicil?"


def test_questions_made_before_the_wording_get_it_when_opened_and_answered_ones_keep_theirs(
    patient_client, session, doctor
):
    bare = screening.checklist(current_catalog().engine, "mn")
    PreVisitCheck.objects.create(appointment=session, questions=bare, sent_at=timezone.now())
    page = patient_client.get(url(session)).content.decode()
    check = PreVisitCheck.objects.get(appointment=session)
    assert check.questions == questions_for(current_catalog(), "mn")
    assert escape(PATIENT_WORDS[STOPPING]) in page

    answered = factories.make_session(
        patient=session.patient, practitioner=doctor, start=session.starts_at + timedelta(hours=2)
    )
    old = PreVisitCheck.objects.create(
        appointment=answered,
        questions=bare,
        answers={q["condition"]: False for q in bare},
        answered_at=timezone.now(),
    )
    previsit_open(session=answered)
    old.refresh_from_db()
    assert old.questions == bare  # answered in the clinician's words: not rewritten
    assert with_patient_wording(bare) == questions_for(current_catalog(), "mn")


# The clinician sees what the patient was asked


def _answered_yes_to_the_cold_sore(doctor):
    """A session whose questions were answered "yes" only to the cold sore, half an hour before."""
    session = factories.make_session(practitioner=doctor)
    check = previsit_open(session=session)
    previsit_answer(
        check=check,
        answers={q["condition"]: q["condition"] == STOPPING for q in check.questions},
        new_medications="",
        by=factories.clinician(),
        now=timezone.localtime(session.starts_at) - timedelta(minutes=30),
    )
    return session, check


def test_the_record_shows_the_clinicians_question_and_asked_as_the_patients(clinician_client, doctor):
    session, check = _answered_yes_to_the_cold_sore(doctor)
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    asked = re.search(
        r"Cold sore in the treated area now\? <strong>Yes</strong>"
        r'<span class="d-block text-body-secondary" data-testid="previsit-asked-as">Asked as: “(.*?)”</span>',
        page,
    )
    assert asked and asked.group(1) == escape(PATIENT_WORDS[STOPPING])
    # Each question, in "All questions and answers", and the one "yes" above it.
    assert page.count('data-testid="previsit-asked-as"') == len(check.questions) + 1


def test_the_desk_never_sees_the_patients_wording(front_desk_client, doctor):
    session, check = _answered_yes_to_the_cold_sore(doctor)
    panel = front_desk_client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert "Needs a call" in panel
    for question in check.questions:
        assert escape(question["patient_question"]) not in panel


# Grouped, every question still asked


def test_the_questions_are_grouped_under_short_headings_and_none_is_dropped(patient_client, session):
    page = patient_client.get(url(session)).content.decode()
    check = PreVisitCheck.objects.get(appointment=session)
    heading_of = {kind: heading for heading, kinds in GROUPS for kind in kinds}
    sections = re.findall(r'<section class="previsit-group.*?</section>', page, re.DOTALL)
    headings = [re.search(r"<h2[^>]*>(.*?)</h2>", section).group(1) for section in sections]
    order = [heading for heading, _ in GROUPS]
    assert len(headings) >= 4 and headings == sorted(headings, key=order.index)
    assert OTHER_GROUP not in headings
    asked = []
    for heading, section in zip(headings, sections, strict=True):
        for words in legends(section):
            question = next(q for q in check.questions if escape(q["patient_question"]) == words)
            assert heading_of[question["kind"]] == heading
            asked.append(question["condition"])
    assert sorted(asked) == sorted(q["condition"] for q in check.questions)
    assert len(asked) == len(check.questions) == page.count("<fieldset")
    assert f"{len(asked)} yes-or-no questions in {len(headings)} short parts" in page
    # The layout is a static file of its own (the CSP allows no inline style).
    assert "css/portal_previsit.css" in page and finders.find("css/portal_previsit.css")
    assert "style=" not in page and "<script" not in page


def test_a_yes_still_stops_the_session_exactly_as_the_engine_judges_it(patient_client, patient, session):
    check = previsit_open(session=session)
    dropped = dict(all_no(check.questions, **{STOPPING: True}))
    del dropped["q_dermal_filler"]
    assert patient_client.post(url(session), dropped).status_code == 400  # every question, as before

    response = patient_client.post(url(session), all_no(check.questions, **{STOPPING: True}))
    assert response.status_code == 302
    check.refresh_from_db()
    answers = {q["condition"]: q["condition"] == STOPPING for q in check.questions}
    assert check.answers == answers
    judged = screening.evaluate(
        profile_for_patient(patient, today=session_day(session)),
        current_catalog().engine,
        "mn",
        area_slugs(session),
        answers,
    )
    assert judged.stop and check.stop is True
    assert check.stop_reasons == [reason.to_json() for reason in judged.reasons]
    # The same questions as the clinician's screening of the session.
    assert [q["condition"] for q in session_context(session).checklist] == list(answers)

    patient_client.post(url(session), all_no(check.questions))
    check.refresh_from_db()
    assert (check.stop, check.stop_reasons) == (False, [])
