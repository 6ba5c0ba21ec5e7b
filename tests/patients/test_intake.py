from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import ConditionRecord, IntakeSubmission
from tests import factories
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake(front_desk_user):
    desk = Client()
    desk.force_login(front_desk_user)
    patient = PatientFactory(first_name="Ines")
    response = desk.post(reverse("patients:intake_start", args=[patient.pk]))
    intake = IntakeSubmission.objects.get(patient=patient)
    assert response["Location"] == reverse("patients:intake_handout", args=[patient.pk, intake.pk])
    return intake


def test_the_tablet_enters_the_code_and_sees_only_the_first_name(client, intake):
    response = client.post(reverse("intake_enter"), {"code": intake.code.lower()})
    assert response["Location"] == reverse("intake_fill", args=[intake.token])
    page = client.get(response["Location"]).content.decode()
    assert "Hello Ines" in page
    assert intake.patient.last_name not in page


def test_a_wrong_code_is_refused(client, intake):
    response = client.post(reverse("intake_enter"), {"code": "WRONG123"})
    assert "That code is not valid" in response.content.decode()


def test_submitting_answers_once(client, intake):
    url = reverse("intake_fill", args=[intake.token])
    response = client.post(
        url,
        {
            "yes_isotretinoin": "on",
            "date_isotretinoin": "2026-01-10",
            "details_isotretinoin": "stopped in August",
        },
    )
    assert response["Location"] == reverse("intake_done")
    intake.refresh_from_db()
    assert intake.answers["conditions"] == {
        "isotretinoin": {"date": "2026-01-10", "details": "stopped in August"}
    }
    assert client.post(url, {"yes_rosacea": "on"}).status_code == 410
    intake.refresh_from_db()
    assert "rosacea" not in intake.answers["conditions"]


def test_an_expired_code_is_refused(client, intake):
    IntakeSubmission.objects.filter(pk=intake.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(reverse("intake_fill", args=[intake.token])).status_code == 410
    assert "expired" in client.post(reverse("intake_enter"), {"code": intake.code}).content.decode()


def test_an_unknown_token_is_404(client):
    assert client.get(reverse("intake_fill", args=["nope"])).status_code == 404


def _submit(intake, answers):
    intake.answers = answers
    intake.submitted_at = timezone.now()
    intake.save()


def test_clinician_review_creates_dated_records_from_ticked_answers(clinician_client, intake):
    _submit(intake, {"conditions": {"isotretinoin": {"date": "2026-01-10", "details": ""}, "rosacea": {}}})
    url = reverse("patients:intake_review", args=[intake.patient.pk, intake.pk])
    form = clinician_client.get(url).context["formset"]
    assert len(form.forms) == 2
    response = clinician_client.post(
        url,
        {
            "entry-TOTAL_FORMS": "2",
            "entry-INITIAL_FORMS": "2",
            "entry-0-include": "on",
            "entry-0-condition": factories.condition("isotretinoin").pk,
            "entry-0-since": "2026-01-10",
            "entry-0-until": "2026-08-24",
            "entry-1-condition": factories.condition("rosacea").pk,
        },
    )
    assert response.status_code == 302
    records = ConditionRecord.objects.filter(patient=intake.patient)
    assert [(r.condition.slug, str(r.until), r.source) for r in records] == [
        ("isotretinoin", "2026-08-24", "intake")
    ]
    intake.refresh_from_db()
    assert intake.status == IntakeSubmission.Status.REVIEWED


def test_review_with_a_bad_date_writes_nothing(clinician_client, intake):
    _submit(intake, {"conditions": {"isotretinoin": {}, "rosacea": {}}})
    url = reverse("patients:intake_review", args=[intake.patient.pk, intake.pk])
    response = clinician_client.post(
        url,
        {
            "entry-TOTAL_FORMS": "2",
            "entry-INITIAL_FORMS": "2",
            "entry-0-include": "on",
            "entry-0-condition": factories.condition("rosacea").pk,
            "entry-1-include": "on",
            "entry-1-condition": factories.condition("isotretinoin").pk,
            "entry-1-since": "2026-05-01",
            "entry-1-until": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert "cannot be before the start date" in response.content.decode()
    assert not ConditionRecord.objects.exists()


def test_front_desk_cannot_review_an_intake(front_desk_user, intake):
    _submit(intake, {"conditions": {"rosacea": {}}})
    desk = Client()
    desk.force_login(front_desk_user)
    url = reverse("patients:intake_review", args=[intake.patient.pk, intake.pk])
    assert desk.get(url).status_code == 403
