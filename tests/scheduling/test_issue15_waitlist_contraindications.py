"""Adding a patient to the waitlist for a treatment their contraindications block is not silently
accepted: the same check as a booking's, an absolute one refused, a relative one or a precaution
added only once confirmed ("Add anyway"), the reason shown to clinicians only, the typing kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.disclosure import CLINICAL, CLINICIAN_MUST_REVIEW
from tests import factories
from tests.factories import ConditionRecordFactory, PatientFactory, make_accepted_plan
from treatments.models import WaitlistEntry
from treatments.services import waitlist
from treatments.web.waitlist_views import ONLY_A_CLINICIAN_READS

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
FIRST, LAST = TODAY + timedelta(days=3), TODAY + timedelta(days=20)


def patient_with(slug=None, *, since=None, **kwargs):
    patient = PatientFactory(date_of_birth=date(1980, 1, 1), **kwargs)
    if slug:
        ConditionRecordFactory(
            patient=patient, condition=factories.condition(slug), since=since, areas=["cheeks"]
        )
    return patient


def posted(**more):
    mn = factories.treatment("mn")
    return {
        "treatment": mn.pk,
        "areas": [area.pk for area in factories.areas("cheeks")],
        "earliest": FIRST.isoformat(),
        "latest": LAST.isoformat(),
        **more,
    }


def add(client, patient, data):
    return client.post(reverse("treatments:waitlist_add", kwargs={"pk": patient.pk}), data)


def add_free(patient, **kwargs):
    return waitlist.waitlist_add(
        patient=patient,
        by=factories.front_desk(),
        today=TODAY,
        treatment=factories.treatment("mn"),
        areas=factories.areas("cheeks"),
        earliest=FIRST,
        latest=LAST,
        **kwargs,
    )


# The service


def test_an_absolute_contraindication_is_refused_even_when_confirmed():
    patient = patient_with("keloid_tendency")
    with pytest.raises(ValidationError) as refused:
        add_free(patient, anyway=True)
    (problem,) = refused.value.error_dict["treatment"]
    assert problem.code == CLINICAL and "Keloid tendency" in problem.message
    assert not WaitlistEntry.objects.exists()


def test_a_relative_one_asks_to_confirm_then_is_added():
    patient = patient_with("anticoagulant")
    with pytest.raises(ValidationError) as asked:
        add_free(patient)
    problems = asked.value.error_dict[waitlist.ANYWAY]
    assert [p.code for p in problems] == [CLINICAL, None]
    assert "clearance" in problems[0].message and "Anticoagulant" in problems[0].message
    assert problems[1].message == waitlist.CONFIRM_ANYWAY
    assert not WaitlistEntry.objects.exists()
    entry = add_free(patient, anyway=True)
    assert entry.status == WaitlistEntry.Status.WAITING


def test_a_precaution_asks_to_confirm():
    with pytest.raises(ValidationError) as asked:
        add_free(patient_with("nsaid"))
    assert "NSAIDs" in asked.value.error_dict[waitlist.ANYWAY][0].message


def test_a_deferral_ending_inside_the_window_asks_to_confirm_one_past_it_is_refused():
    inside = patient_with("botulinum_toxin", since=TODAY)  # wait 14 days: before LAST
    with pytest.raises(ValidationError) as asked:
        add_free(inside)
    assert waitlist.ANYWAY in asked.value.error_dict
    late = patient_with("botulinum_toxin", since=TODAY)
    with pytest.raises(ValidationError) as refused:
        waitlist.waitlist_add(
            patient=late,
            by=factories.front_desk(),
            today=TODAY,
            treatment=factories.treatment("mn"),
            areas=factories.areas("cheeks"),
            earliest=FIRST,
            latest=FIRST + timedelta(days=2),
            anyway=True,
        )
    assert "after the last day the patient could come" in refused.value.error_dict["treatment"][0].message


def test_a_deferral_until_an_absolute_one_is_resolved_is_refused():
    with pytest.raises(ValidationError) as refused:
        add_free(patient_with("pregnancy"), anyway=True)
    assert "Pregnancy" in refused.value.error_dict["treatment"][0].message


def test_a_plan_visit_newly_contraindicated_is_refused_on_the_visit():
    patient = PatientFactory()
    plan = make_accepted_plan(patient, start=FIRST, sessions=2)
    ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"))
    with pytest.raises(ValidationError) as refused:
        waitlist.waitlist_add(
            patient=patient,
            by=factories.front_desk(),
            today=TODAY,
            planned_session=plan.planned_sessions.get(visit=1),
        )
    assert "Keloid tendency" in refused.value.error_dict["planned_session"][0].message


def test_no_contraindication_adds_without_asking():
    assert add_free(patient_with()).status == WaitlistEntry.Status.WAITING


# The page


@pytest.fixture
def desk():
    client = Client()
    client.force_login(factories.front_desk())
    return client


@pytest.fixture
def clinician():
    client = Client()
    client.force_login(factories.clinician())
    return client


def test_a_clinician_reads_the_reason_confirms_and_the_typing_is_kept(clinician):
    patient = patient_with("anticoagulant")
    data = posted()
    response = add(clinician, patient, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Anticoagulant or antiplatelet" in html and "needs a clinician&#x27;s clearance first" in html
    assert 'name="add_anyway"' in html and "Add anyway" in html
    form = response.context["form"]
    assert form["earliest"].value() == FIRST.isoformat() and form["latest"].value() == LAST.isoformat()
    assert form["treatment"].value() == str(data["treatment"])
    assert f'value="{LAST.isoformat()}"' in html
    assert not WaitlistEntry.objects.exists()

    confirmed = add(clinician, patient, {**data, "add_anyway": "on"})
    assert confirmed.status_code == 302
    assert WaitlistEntry.objects.get().patient == patient


def test_the_desk_is_warned_without_the_condition(desk):
    patient = patient_with("anticoagulant")
    response = add(desk, patient, posted())
    assert response.status_code == 400
    html = response.content.decode()
    assert ONLY_A_CLINICIAN_READS in html and "nticoagulant" not in html
    assert 'name="add_anyway"' in html
    assert add(desk, patient, {**posted(), "add_anyway": "on"}).status_code == 302


def test_an_absolute_one_is_refused_on_the_form_for_everyone(desk, clinician):
    patient = patient_with("keloid_tendency")
    refused = add(desk, patient, {**posted(), "add_anyway": "on"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert CLINICIAN_MUST_REVIEW in html and "eloid" not in html
    told = add(clinician, patient, posted()).content.decode()
    assert "Keloid tendency" in told and "must not be done for this patient" in told
    assert 'name="add_anyway"' not in told
    assert not WaitlistEntry.objects.exists()


def test_an_empty_form_does_not_ask_to_confirm(desk):
    response = add(desk, patient_with(), {"earliest": ""})
    assert response.status_code == 400
    assert 'name="add_anyway"' not in response.content.decode()
