"""The intake refuses dates that cannot be true (after the clinic's today, before the patient's
birth), on the field where they were typed, keeping the rest, on the portal, on the tablet the front
desk hands out, and on the clinician's review: nothing of it enters the history."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients import services
from patients.intake import QuestionnaireForm
from patients.models import ConditionRecord, IntakeSubmission
from tests import factories
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db

FUTURE = services.DATE_IN_FUTURE
BEFORE_BIRTH = "This date is before the patient&#x27;s birth date."  # as the page escapes it
BORN = date(1988, 9, 9)


def _answers(when: date) -> dict[str, str]:
    return {
        "yes_isotretinoin": "on",
        "date_isotretinoin": when.isoformat(),
        "details_isotretinoin": "DATES-DETAILS-MARK",
        "yes_rosacea": "on",
        "date_rosacea": "2020-05-01",
        "medications": "DATES-MEDS-MARK",
    }


def _kept(page: str, when: date) -> None:
    """What the patient typed is on the page again, to correct rather than retype."""
    assert f'value="{when.isoformat()}"' in page
    assert 'value="2020-05-01"' in page
    assert "DATES-DETAILS-MARK" in page and "DATES-MEDS-MARK" in page
    assert 'name="yes_isotretinoin" id="id_yes_isotretinoin" checked' in page


def _error_under_the_date(page: str, message: str) -> None:
    """The message sits in the isotretinoin question's own date cell, right after its input."""
    start = page.index('name="date_isotretinoin"')
    cell = page[start : page.index("</div>", page.index("</div>", start) + 1)]
    assert message in cell, cell


@pytest.fixture
def patient():
    return factories.PatientFactory(first_name="Ines", date_of_birth=BORN)


@pytest.fixture
def portal(patient, mailoutbox):
    client = Client()
    sign_in(client, patient, mailoutbox)
    return client


@pytest.fixture
def tablet_url(patient, front_desk_user):
    desk = Client()
    desk.force_login(front_desk_user)
    desk.post(reverse("patients:intake_start", args=[patient.pk]))
    return reverse("intake_fill", args=[IntakeSubmission.objects.get(patient=patient).token])


def _tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


def test_the_portal_refuses_a_future_date_on_its_field_and_keeps_the_rest(portal, patient):
    response = portal.post(reverse("portal:intake"), _answers(_tomorrow()))
    assert response.status_code == 400
    page = response.content.decode()
    _error_under_the_date(page, FUTURE)
    _kept(page, _tomorrow())
    assert page.count(FUTURE) == 1, "only the wrong date is marked"
    assert not IntakeSubmission.objects.filter(patient=patient).exists()
    assert not ConditionRecord.objects.filter(patient=patient).exists()


def test_the_portal_refuses_a_date_before_birth(portal, patient):
    before = BORN - timedelta(days=1)
    response = portal.post(reverse("portal:intake"), _answers(before))
    assert response.status_code == 400
    page = response.content.decode()
    _error_under_the_date(page, BEFORE_BIRTH)
    _kept(page, before)
    assert not IntakeSubmission.objects.filter(patient=patient).exists()


def test_the_portal_takes_today_and_the_birth_date_itself(portal, patient):
    answers = {**_answers(timezone.localdate()), "date_rosacea": BORN.isoformat()}
    assert portal.post(reverse("portal:intake"), answers).status_code == 302
    intake = IntakeSubmission.objects.get(patient=patient)
    assert intake.answers["conditions"]["isotretinoin"]["date"] == timezone.localdate().isoformat()
    assert intake.answers["conditions"]["rosacea"]["date"] == BORN.isoformat()


def test_the_tablet_refuses_a_future_date_and_keeps_the_rest(client, tablet_url, patient):
    response = client.post(tablet_url, _answers(_tomorrow()))
    assert response.status_code == 200
    page = response.content.decode()
    _error_under_the_date(page, FUTURE)
    _kept(page, _tomorrow())
    intake = IntakeSubmission.objects.get(patient=patient)
    assert intake.submitted_at is None and intake.answers == {}, "the code is still usable"
    assert not ConditionRecord.objects.filter(patient=patient).exists()
    assert client.post(tablet_url, _answers(timezone.localdate()))["Location"] == reverse("intake_done")


def test_the_tablet_refuses_a_date_before_birth(client, tablet_url, patient):
    before = BORN - timedelta(days=400)
    page = client.post(tablet_url, _answers(before)).content.decode()
    _error_under_the_date(page, BEFORE_BIRTH)
    _kept(page, before)
    assert IntakeSubmission.objects.get(patient=patient).submitted_at is None


def test_a_date_left_under_an_unticked_question_is_not_judged(client, tablet_url, patient):
    answers = {"date_psoriasis": _tomorrow().isoformat(), "medications": "none"}
    assert client.post(tablet_url, answers)["Location"] == reverse("intake_done")
    assert IntakeSubmission.objects.get(patient=patient).answers["conditions"] == {}


def test_the_form_judges_by_the_today_it_is_given():
    condition = factories.condition("isotretinoin")
    today = date(2026, 3, 1)
    form = QuestionnaireForm(
        {"yes_isotretinoin": "on", "date_isotretinoin": "2026-03-02"}, conditions=[condition], today=today
    )
    assert not form.is_valid() and form.errors["date_isotretinoin"] == [FUTURE]


def _review_post(intake, **fields: str) -> dict[str, str]:
    data = {
        "entry-TOTAL_FORMS": "1",
        "entry-INITIAL_FORMS": "1",
        "submitted_at": intake.submitted_at.isoformat(),
        "entry-0-include": "on",
        "entry-0-condition": str(factories.condition("isotretinoin").pk),
        "entry-0-notes": "REVIEW-NOTES-MARK",
    }
    data.update({f"entry-0-{name}": value for name, value in fields.items()})
    return data


@pytest.fixture
def waiting(patient):
    """Answers sent before dates were judged: one of them in the future."""
    return services.intake_submit_from_portal(
        patient=patient,
        answers={"conditions": {"isotretinoin": {"date": _tomorrow().isoformat(), "details": "x"}}},
        by=None,
        now=timezone.now(),
    )[0]


@pytest.mark.parametrize(
    ("fields", "wrong", "message"),
    [
        ({"since": "TOMORROW"}, "since", FUTURE),
        ({"since": "2026-01-10", "until": "TOMORROW"}, "until", FUTURE),
        ({"since": "1980-01-01"}, "since", BEFORE_BIRTH),
    ],
)
def test_the_review_refuses_them_too(clinician_client, patient, waiting, fields, wrong, message):
    fields = {
        name: _tomorrow().isoformat() if value == "TOMORROW" else value for name, value in fields.items()
    }
    url = reverse("patients:intake_review", args=[patient.pk, waiting.pk])
    assert _tomorrow().isoformat() in clinician_client.get(url).content.decode()
    response = clinician_client.post(url, _review_post(waiting, **fields))
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index(f'name="entry-0-{wrong}"')
    assert message in page[start : page.index("</td>", start)], "the error under the date typed"
    assert "REVIEW-NOTES-MARK" in page
    assert not ConditionRecord.objects.filter(patient=patient).exists()
    waiting.refresh_from_db()
    assert waiting.status == IntakeSubmission.Status.PENDING


def test_an_unticked_row_with_a_future_date_does_not_block_the_review(clinician_client, patient, waiting):
    url = reverse("patients:intake_review", args=[patient.pk, waiting.pk])
    data = _review_post(waiting, since=_tomorrow().isoformat())
    del data["entry-0-include"]
    assert clinician_client.post(url, data).status_code == 302
    assert not ConditionRecord.objects.filter(patient=patient).exists()


def test_the_review_service_refuses_a_future_date_by_the_clinics_calendar(patient, waiting):
    # 02:00 UTC on 2 December is 21:00 on 1 December in New York: the 2nd is still to come.
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    entry = {"condition": factories.condition("isotretinoin"), "areas": [], "since": date(2026, 12, 2)}
    with pytest.raises(ValidationError) as refused:
        services.intake_review(intake=waiting, accepted=[entry], by=factories.clinician(), now=now)
    assert refused.value.code == "date" and FUTURE in refused.value.messages[0]
    assert not ConditionRecord.objects.filter(patient=patient).exists()
    entry["since"] = date(2026, 12, 1)
    services.intake_review(intake=waiting, accepted=[entry], by=factories.clinician(), now=now)
    assert ConditionRecord.objects.get(patient=patient).since == date(2026, 12, 1)


# A medicine's last dose: the rules on medicines count from it (6 months after isotretinoin).


def test_a_medicine_asks_when_it_was_last_taken_and_the_review_ends_the_record_there(
    client, tablet_url, patient, clinician_client
):
    page = client.get(tablet_url).content.decode()
    assert 'name="stopped_isotretinoin"' in page and "If you have stopped: when did you last take" in page
    assert 'name="stopped_rosacea"' not in page  # not a medicine
    started, stopped = timezone.localdate() - timedelta(days=300), timezone.localdate() - timedelta(days=90)
    answers = {
        "yes_isotretinoin": "on",
        "date_isotretinoin": started.isoformat(),
        "stopped_isotretinoin": stopped.isoformat(),
    }
    assert client.post(tablet_url, answers)["Location"] == reverse("intake_done")
    intake = IntakeSubmission.objects.get(patient=patient)
    assert intake.answers["conditions"]["isotretinoin"]["stopped"] == stopped.isoformat()
    review = clinician_client.get(
        reverse("patients:intake_review", args=[patient.pk, intake.pk])
    ).content.decode()
    assert f'name="entry-0-until" value="{stopped.isoformat()}"' in review


@pytest.mark.parametrize(
    ("started", "stopped", "message"),
    [
        (date(2026, 1, 1), date(2025, 12, 1), "The last time cannot be before the start."),
        (date(2026, 1, 1), date(2026, 3, 2), FUTURE),
        (None, date(1980, 1, 1), BEFORE_BIRTH),
    ],
)
def test_a_last_dose_that_cannot_be_right_is_refused_on_its_field(started, stopped, message):
    form = QuestionnaireForm(
        {
            "yes_isotretinoin": "on",
            "date_isotretinoin": started.isoformat() if started else "",
            "stopped_isotretinoin": stopped.isoformat(),
        },
        conditions=[factories.condition("isotretinoin")],
        today=date(2026, 3, 1),
        born=BORN,
    )
    assert not form.is_valid()
    assert [str(error) for error in form.errors["stopped_isotretinoin"]] == [message.replace("&#x27;", "'")]
