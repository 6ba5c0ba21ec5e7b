"""The intake questionnaire speaks to the patient, and asks for dates and details only after a "yes"."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from patients import services
from patients.intake import PATIENT_QUESTIONS, QuestionnaireForm, question_text
from patients.models import IntakeSubmission, MedicalCondition
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CLINICIAN_WORDS = ("until =", "prophylaxis", "(event)", "in the area", "record the latest", "\u00d710")


@pytest.fixture
def fill_url(front_desk_user):
    desk = Client()
    desk.force_login(front_desk_user)
    patient = PatientFactory(first_name="Ines")
    desk.post(reverse("patients:intake_start", args=[patient.pk]))
    intake = IntakeSubmission.objects.get(patient=patient)
    return reverse("intake_fill", args=[intake.token])


def test_every_seeded_condition_has_a_question_for_the_patient():
    asked = services.intake_questions()
    assert asked
    missing = [c.slug for c in asked if c.slug not in PATIENT_QUESTIONS and not c.intake_question]
    assert missing == []
    for condition in asked:
        text = question_text(condition)
        assert text.endswith("?"), text
        assert not [word for word in CLINICIAN_WORDS if word in text], text


def test_plain_words_for_the_clinical_ones():
    assert question_text(MedicalCondition.objects.get(slug="herpes_simplex_history")) == (
        "Have you ever had cold sores?"
    )
    form = QuestionnaireForm(conditions=[MedicalCondition.objects.get(slug="vitiligo_active")])
    assert form.fields["date_vitiligo_active"].label == "When did the most recent patch start?"


def test_an_admins_own_wording_comes_first():
    condition = MedicalCondition.objects.get(slug="smoking")
    condition.intake_question = "Do you smoke or vape?"
    assert question_text(condition) == "Do you smoke or vape?"


def test_the_page_uses_the_patient_wording_and_no_clinician_words(client, fill_url):
    page = client.get(fill_url).content.decode()
    assert "Have you ever had cold sores?" in page
    assert "When did the most recent patch start?" in page
    assert "prophylaxis" not in page and "until =" not in page


def test_date_and_details_follow_the_yes_box_so_css_can_reveal_them(client, fill_url):
    page = client.get(fill_url).content.decode()
    items = re.findall(r'<li class="list-group-item intake-item">(.*?)</li>', page, re.S)
    assert len(items) == len(services.intake_questions())
    for item in items:
        yes = item.index('class="form-check-input intake-yes"')
        more = item.index('class="row g-2 mt-1 intake-more')
        assert yes < more
        assert item.index('type="date"') > more
    assert "<script>" not in page  # the CSP forbids inline scripts: the reveal is CSS only
    assert "onclick" not in page


def test_the_css_hides_the_follow_up_until_ticked():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "css" / "clinic.css").read_text()
    assert ".intake-item .intake-more { display: none;" in css
    assert ".intake-yes:checked ~ .intake-more" in css


def test_what_is_submitted_is_unchanged(client, fill_url):
    response = client.post(
        fill_url,
        {"yes_isotretinoin": "on", "date_isotretinoin": "2026-01-10", "details_isotretinoin": "stopped"},
    )
    assert response.status_code == 302
    intake = IntakeSubmission.objects.get()
    assert intake.answers["conditions"] == {"isotretinoin": {"date": "2026-01-10", "details": "stopped"}}
