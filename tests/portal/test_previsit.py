"""The pre-visit questions (issue 17): the patient answers the day-of screening on the phone before
a session; a "yes" that stops it shows on the clinician's My day with the reasons and as "Needs a
call" for the front desk (no clinical detail); at the visit the screening comes filled in with the
answers and the clinician confirms them."""

import re
import threading
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic.models import AccessLogEntry
from clinic.portal_previsit import ANSWER_ALL, ANSWER_THIS, CLOSED_NOT_BOOKED, CLOSED_STARTED, THANKS
from patients.models import PortalAccount
from tests import factories
from treatments.models import Appointment, PreVisitCheck
from treatments.selectors.availability import clinic_zone
from treatments.selectors.plan_suggestions import current_catalog
from treatments.selectors.session_context import session_context
from treatments.services import recording
from treatments.services.previsit import previsit_answer, previsit_open, questions_for

pytestmark = pytest.mark.django_db

STOPPING = "herpes_simplex_active"  # "Cold sore in the treated area now?": stops microneedling


@pytest.fixture
def patient():
    return factories.PatientFactory(
        first_name="Marta", email="marta@example.com", date_of_birth=date(1990, 5, 17)
    )


@pytest.fixture
def doctor(clinician_user):
    return factories.make_practitioner(factories.make_location(rooms=2, pens=2), user=clinician_user)


def in_hours(hours: float) -> datetime:
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def session(patient, doctor):
    return factories.make_session(patient=patient, practitioner=doctor, start=in_hours(24))


def questions():
    return questions_for(current_catalog(), "mn")


def all_no(**yes):
    answers = {f"q_{q['condition']}": "no" for q in questions()}
    answers.update({f"q_{slug}": "yes" for slug in yes})
    return answers


def chosen(page, name):
    """The value of the radio button `name` that is checked in the page, or None."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\schecked\b", tag):
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def url(session):
    return reverse("portal:previsit", args=[session.pk])


def answer(session, *, stop=True, when=None):
    """The patient's answers stored through the service, with a "yes" that stops it or none."""
    check = previsit_open(session=session)
    user = PortalAccount.objects.filter(patient=session.patient).first()
    answers = {q["condition"]: stop and q["condition"] == STOPPING for q in check.questions}
    return previsit_answer(
        check=check,
        answers=answers,
        new_medications="",
        by=user.user if user else factories.clinician(),
        now=when or timezone.now(),
    )


# The patient's page


def test_the_page_asks_the_catalogs_checklist_and_makes_the_questions_once(patient_client, patient, session):
    assert not PreVisitCheck.objects.exists()
    response = patient_client.get(url(session))
    page = response.content.decode()
    assert response.status_code == 200
    asked = questions()
    assert asked and any(q["condition"] == STOPPING for q in asked)
    for question in asked:
        # The patient reads the patient's wording, never the clinician's (test_previsit_wording).
        assert escape(question["patient_question"]) in page
        assert escape(question["question"]) not in page
    assert "New medicines since your last visit" in page
    # No radio chosen ("a doctor has not yet checked" is in a question's words now).
    assert 'type="radio"' in page and all(chosen(page, f"q_{q['condition']}") is None for q in asked)
    check = PreVisitCheck.objects.get(appointment=session)
    assert check.questions == asked and check.answered_at is None
    patient_client.get(url(session))
    assert PreVisitCheck.objects.count() == 1
    assert AccessLogEntry.objects.filter(
        patient_id=patient.pk, kind="portal", view_name="portal:previsit", object_id=str(session.pk)
    ).exists()


def test_every_question_must_be_answered_and_the_answers_given_are_kept(patient_client, session):
    posted = all_no(**{STOPPING: True})
    dropped = next(name for name in posted if name != f"q_{STOPPING}")
    del posted[dropped]
    response = patient_client.post(url(session), {**posted, "new_medications": "MED-MARK"})
    page = response.content.decode()
    assert response.status_code == 400
    assert ANSWER_ALL in page and ANSWER_THIS in page
    assert chosen(page, f"q_{STOPPING}") == "yes"
    assert chosen(page, dropped) is None
    assert "MED-MARK" in page
    check = PreVisitCheck.objects.get(appointment=session)
    assert check.answered_at is None and check.answers == {}


def test_a_yes_that_stops_the_session_is_judged_and_the_patient_reads_only_thanks(
    patient_client, patient, session
):
    response = patient_client.post(
        url(session), {**all_no(**{STOPPING: True}), "new_medications": " Aspirin "}
    )
    assert response.status_code == 302 and response["Location"] == url(session)
    check = PreVisitCheck.objects.get(appointment=session)
    assert check.stop is True
    assert check.answers[STOPPING] is True and not any(v for k, v in check.answers.items() if k != STOPPING)
    assert check.new_medications == "Aspirin"
    assert check.answered_by == PortalAccount.objects.get(patient=patient).user
    assert check.stop_reasons and all({"code", "severity", "text"} <= set(r) for r in check.stop_reasons)
    page = patient_client.get(url(session)).content.decode()
    assert THANKS in page
    assert "You answered on" in page
    for reason in check.stop_reasons:
        assert reason["text"] not in page
    home = patient_client.get(reverse("portal:home")).content.decode()
    for reason in check.stop_reasons:
        assert reason["text"] not in home


def test_the_patient_may_change_the_answers_and_each_save_judges_again(patient_client, session):
    patient_client.post(url(session), all_no())
    check = PreVisitCheck.objects.get(appointment=session)
    assert (check.stop, check.stop_reasons) == (False, [])
    page = patient_client.get(url(session)).content.decode()
    assert chosen(page, f"q_{STOPPING}") == "no"
    patient_client.post(url(session), all_no(**{STOPPING: True}))
    check.refresh_from_db()
    assert check.stop is True
    patient_client.post(url(session), all_no())
    check.refresh_from_db()
    assert (check.stop, check.stop_reasons) == (False, [])


def test_a_condition_already_on_file_is_not_counted_as_the_answers_stop(patient_client, patient, session):
    # The history already blocks the session (My day's alerts say so): answering "no" to everything
    # is not a pre-visit stop, and no reason is put on the answers.
    factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("keloid_tendency"), areas=[]
    )
    patient_client.post(url(session), all_no())
    check = PreVisitCheck.objects.get(appointment=session)
    assert (check.stop, check.stop_reasons) == (False, [])


def test_another_patients_session_and_a_member_of_staff_get_404(
    patient_client, session, doctor, clinician_client
):
    other = factories.make_session(practitioner=doctor, start=in_hours(30))
    assert patient_client.get(url(other)).status_code == 404
    assert patient_client.post(url(other), all_no()).status_code == 404
    assert not PreVisitCheck.objects.filter(appointment=other).exists()
    assert clinician_client.get(url(session)).status_code == 404
    anonymous = Client().get(url(session))
    assert anonymous.status_code == 302 and anonymous["Location"] == reverse("portal:start")


@pytest.mark.parametrize(
    ("status", "hours", "message"),
    [
        (Appointment.Status.CANCELLED, 24, CLOSED_NOT_BOOKED),
        (Appointment.Status.BOOKED, -1, CLOSED_STARTED),
        (Appointment.Status.CHECKED_IN, 1, CLOSED_STARTED),
    ],
)
def test_a_session_not_booked_ahead_shows_a_plain_message(
    patient_client, patient, doctor, status, hours, message
):
    session = factories.make_session(
        patient=patient, practitioner=doctor, start=in_hours(hours), status=status
    )
    response = patient_client.get(url(session))
    assert response.status_code == 200
    assert message in response.content.decode() and 'type="radio"' not in response.content.decode()
    response = patient_client.post(url(session), all_no())
    assert response.status_code == 400 and message in response.content.decode()
    assert not PreVisitCheck.objects.filter(appointment=session, answered_at__isnull=False).exists()


def test_answers_posted_after_the_start_are_refused_by_the_service(session):
    check = previsit_open(session=session)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        previsit_answer(
            check=check, answers={}, new_medications="", by=factories.clinician(), now=session.starts_at
        )
    assert refused.value.code == "closed"


def test_the_home_page_offers_the_questions_within_48_hours_or_once_sent(patient_client, patient, doctor):
    later = factories.make_session(
        patient=patient, practitioner=doctor, start=in_hours(24 * 5), consent=False
    )
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert "Questions before your visit" not in page
    PreVisitCheck.objects.create(appointment=later, questions=questions(), sent_at=timezone.now())
    soon = factories.make_session(patient=patient, practitioner=doctor, start=in_hours(20), consent=False)
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert page.count('data-testid="previsit-card"') == 2
    local = timezone.localtime(soon.starts_at)
    assert f"Questions before your visit on {local:%a} {local.day} {local:%b} at {local:%H:%M}" in page
    assert url(soon) in page and url(later) in page
    assert "Answer the questions" in page
    patient_client.post(url(soon), all_no())
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert "Change your answers" in page


# The clinician


def test_my_day_shows_the_stop_with_its_reasons_and_a_badge_for_answers_that_are_fine(
    clinician_client, doctor, patient
):
    today = timezone.localdate()
    stopped = factories.make_session(
        patient=patient, practitioner=doctor, start=datetime.combine(today, time(20), tzinfo=clinic_zone())
    )
    fine = factories.make_session(
        practitioner=doctor, start=datetime.combine(today, time(21, 30), tzinfo=clinic_zone())
    )
    factories.make_session(practitioner=doctor, start=datetime.combine(today, time(23), tzinfo=clinic_zone()))
    when = datetime.combine(today, time(0, 1), tzinfo=clinic_zone())
    check = answer(stopped, when=when)
    answer(fine, stop=False, when=when)
    page = clinician_client.get(reverse("treatments:my_day")).content.decode()
    assert page.count('data-testid="previsit-alert"') == 1
    assert "Pre-visit answers:" in page
    for reason in check.stop_reasons:
        assert reason["text"] in page
    assert page.count('data-testid="previsit-in"') == 1
    alert_at = page.index('data-testid="previsit-alert"')
    assert page.index(reverse("treatments:session_record", args=[stopped.pk])) > alert_at


def test_my_day_costs_the_same_queries_with_pre_visit_answers(clinician_client, doctor):
    early = timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0)

    def add(n, offset):
        for index in range(n):
            session = factories.make_session(
                practitioner=doctor, start=early + timedelta(minutes=80 * (offset + index))
            )
            answer(session, stop=index % 2 == 0, when=early - timedelta(minutes=1))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert clinician_client.get(reverse("treatments:my_day")).status_code == 200
        return len(queries)

    add(2, 0)
    few = count()
    add(6, 2)
    assert count() == few


def test_the_record_shows_the_answers_and_the_screening_comes_filled_in_to_confirm(
    clinician_client, clinician_user, doctor, patient
):
    session = factories.make_session(patient=patient, practitioner=doctor)
    when = timezone.localtime(session.starts_at) - timedelta(minutes=30)
    check = previsit_open(session=session)
    previsit_answer(
        check=check,
        answers={q["condition"]: q["condition"] == STOPPING for q in check.questions},
        new_medications="MED-MARK",
        by=factories.clinician(),
        now=when,
    )
    check.refresh_from_db()
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    assert "Pre-visit answers" in page
    assert f"Answered by the patient on {when:%-d %b %Y}: confirm each with them" in page
    stopping_question = next(q["question"] for q in check.questions if q["condition"] == STOPPING)
    assert f"{stopping_question} <strong>Yes</strong>" in page
    for reason in check.stop_reasons:
        assert reason["text"] in page
    assert "MED-MARK" in page
    # The screening's radios carry the patient's answers, and the new medicines their text.
    assert chosen(page, f"q_{STOPPING}") == "yes"
    for question in check.questions:
        if question["condition"] != STOPPING:
            assert chosen(page, f"q_{question['condition']}") == "no"

    # The clinician asks again: the patient's cold sore has gone, so every answer is "no".
    judged = session_context(session)
    recording.session_screen(
        appointment=session,
        context=judged,
        answers={q["condition"]: False for q in judged.checklist},
        consent_confirmed=True,
        photos_taken=True,
        new_medications="MED-MARK",
        by=clinician_user,
    )
    check.refresh_from_db()
    assert check.confirmed_by == clinician_user and check.confirmed_at is not None
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    assert "confirmed at screening by" in page
    assert "confirm each with them" not in page


def test_a_record_without_answers_shows_nothing_of_them(clinician_client, doctor):
    session = factories.make_session(practitioner=doctor)
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    assert "Pre-visit answers" not in page and "checked" not in page


# The front desk


def test_the_desk_sees_needs_a_call_and_no_clinical_word(front_desk_client, doctor, patient):
    day = timezone.localdate() + timedelta(days=1)
    session = factories.make_session(
        patient=patient, practitioner=doctor, start=datetime.combine(day, time(10), tzinfo=clinic_zone())
    )
    fine = factories.make_session(
        practitioner=doctor, start=datetime.combine(day, time(12), tzinfo=clinic_zone())
    )
    check = answer(session)
    answer(fine, stop=False)
    assert check.stop
    secret = [r["text"] for r in check.stop_reasons] + [q["question"] for q in check.questions]
    location = doctor.working_hours.first().location
    pages = {
        "day": front_desk_client.get(
            reverse("treatments:calendar_day"), {"date": day.isoformat(), "location": location.pk}
        ),
        "week": front_desk_client.get(
            reverse("treatments:calendar_week"), {"date": day.isoformat(), "location": location.pk}
        ),
        "panel": front_desk_client.get(reverse("treatments:session", args=[session.pk])),
        "htmx panel": front_desk_client.get(
            reverse("treatments:session", args=[session.pk]), HTTP_HX_REQUEST="true"
        ),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, name
        assert html.count("Needs a call") == 1, name
        for text in secret:
            assert text not in html, (name, text)
        assert "Pre-visit answers" not in html, name
    fine_panel = front_desk_client.get(reverse("treatments:session", args=[fine.pk])).content.decode()
    assert "Needs a call" not in fine_panel


def test_needs_a_call_goes_once_a_clinician_confirms_the_answers(front_desk_client, doctor, patient):
    session = factories.make_session(patient=patient, practitioner=doctor)
    answer(session)
    panel = reverse("treatments:session", args=[session.pk])
    assert "Needs a call" in front_desk_client.get(panel).content.decode()
    PreVisitCheck.objects.filter(appointment=session).update(
        confirmed_at=timezone.now(), confirmed_by=doctor.user
    )
    assert "Needs a call" not in front_desk_client.get(panel).content.decode()


def test_a_cancelled_session_needs_no_call(front_desk_client, doctor, patient):
    session = factories.make_session(patient=patient, practitioner=doctor, start=in_hours(30))
    answer(session)
    Appointment.objects.filter(pk=session.pk).update(status=Appointment.Status.CANCELLED)
    panel = reverse("treatments:session", args=[session.pk])
    assert "Needs a call" not in front_desk_client.get(panel).content.decode()


def test_the_desk_day_costs_the_same_queries_with_calls_to_make(front_desk_client, doctor):
    day = timezone.localdate() + timedelta(days=1)
    location = doctor.working_hours.first().location
    others = [factories.make_practitioner(location) for _ in range(3)]

    def add(practitioners):
        for index, practitioner in enumerate(practitioners):
            session = factories.make_session(
                practitioner=practitioner, start=datetime.combine(day, time(9 + index), tzinfo=clinic_zone())
            )
            answer(session, stop=True)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = front_desk_client.get(
                reverse("treatments:calendar_day"), {"date": day.isoformat(), "location": location.pk}
            )
        assert response.status_code == 200
        return len(queries), response.content.decode().count("Needs a call")

    add([doctor])
    few, calls = count()
    add(others)
    many, more_calls = count()
    assert (calls, more_calls) == (1, 4)
    assert many == few


# Two saves at once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_are_judged_one_after_the_other(catalog):
    patient = factories.PatientFactory()
    session = factories.make_session(patient=patient, start=in_hours(24))
    check = previsit_open(session=session)
    user = factories.clinician()
    barrier = threading.Barrier(2)
    errors = []

    def save(yes):
        barrier.wait()
        try:
            previsit_answer(
                check=check,
                answers={q["condition"]: yes and q["condition"] == STOPPING for q in check.questions},
                new_medications="yes" if yes else "no",
                by=user,
                now=timezone.now(),
            )
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(yes,)) for yes in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    check.refresh_from_db()
    # Whichever came last: its answers, its medicines and its verdict, never a mix.
    assert check.stop is check.answers[STOPPING] is (check.new_medications == "yes")
