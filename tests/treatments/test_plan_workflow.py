from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import ConsentForm, PatientConsent
from tests import factories
from tests.factories import ConcernFactory, ConditionRecordFactory, PatientFactory
from treatments.engine.plan_results import OptionStatus
from treatments.models import Clearance, Plan, PlannedSession, Treatment

pytestmark = pytest.mark.django_db


def _sign_all_consents(patient):
    for form in ConsentForm.objects.filter(active=True):
        PatientConsent.objects.create(patient=patient, form=form, signed_on=date(2026, 11, 1))


@pytest.fixture
def patient():
    patient = PatientFactory(fitzpatrick=2, date_of_birth=date(1990, 1, 1))
    ConcernFactory(patient=patient, areas=["cheeks"])
    return patient


def _page(client, patient):
    response = client.get(reverse("treatments:plan_builder", args=[patient.pk]))
    assert response.status_code == 200
    return response


def _accept_data(response, **extra):
    """What the page posts as shown (the default option of each item), with the precautions read."""
    formset = response.context["formset"]
    current = response.context["current_plan"]
    data = {"basis": formset.basis, "replaces": current.pk if current else ""}
    data.update({formset.add_prefix(name): value for name, value in formset.management_form.initial.items()})
    for form in formset:
        data[form.add_prefix("option")] = form.selected
        data[form.add_prefix("acknowledged")] = "on"
    data.update(extra)
    return data


def _items(response):
    return [form.item for form in response.context["formset"]]


def test_clinician_sees_options_for_each_concern(clinician_client, patient):
    response = _page(clinician_client, patient)
    items = _items(response)
    assert items[0].concern == "acne_scars_atrophic"
    assert any(o.treatment in {"mn", "mn_prp"} for o in items[0].options)
    assert "Proposed visits" in response.content.decode()


def test_a_patient_without_skin_type_is_asked_for_it(clinician_client):
    concern = ConcernFactory(patient=PatientFactory(fitzpatrick=None))
    response = _page(clinician_client, concern.patient)
    assert response.context["problems"]
    assert "Assess the skin type" in response.content.decode()


def test_accepting_needs_the_treatments_consent(clinician_client, patient):
    response = _page(clinician_client, patient)
    response = clinician_client.post(response.request["PATH_INFO"], _accept_data(response))
    assert "Record the signed consent" in response.content.decode()
    assert not Plan.objects.exists()


def test_accepting_stores_the_plan_with_its_rules_and_planned_sessions(clinician_client, patient):
    _sign_all_consents(patient)
    response = _page(clinician_client, patient)
    response = clinician_client.post(response.request["PATH_INFO"], _accept_data(response))
    plan = Plan.objects.get(patient=patient)
    assert response.status_code == 302
    assert plan.status == Plan.Status.ACCEPTED and plan.version == 1
    assert plan.catalog_rules["protocols"]
    sessions = PlannedSession.objects.filter(plan=plan)
    assert sessions.count() == plan.chosen["items"][0]["sessions"]
    assert sessions.first().earliest <= sessions.last().earliest


def test_sessions_outside_the_protocol_need_a_reason(clinician_client, patient):
    _sign_all_consents(patient)
    response = _page(clinician_client, patient)
    url = response.request["PATH_INFO"]
    response = clinician_client.post(url, _accept_data(response, **{"item-0-sessions": "20"}))
    assert response.status_code == 400
    assert "outside the protocol's range" in response.content.decode()
    problems = response.context["formset"].forms[0].problems()
    assert any(p.startswith("Give a reason: the number of sessions is outside") for p in problems)
    assert 'value="20"' in response.content.decode()
    assert not Plan.objects.exists()
    data = _accept_data(
        _page(clinician_client, patient), **{"item-0-sessions": "8", "item-0-reason": "deep scars"}
    )
    assert clinician_client.post(url, data).status_code == 302
    assert Plan.objects.get().chosen["items"][0]["reason"] == "deep scars"


def test_a_stale_page_is_not_accepted(clinician_client, patient):
    _sign_all_consents(patient)
    response = _page(clinician_client, patient)
    data = _accept_data(response, basis="built-on-another-catalog")
    response = clinician_client.post(response.request["PATH_INFO"], data)
    assert "changed since this page was opened" in response.content.decode()
    assert not Plan.objects.exists()


def test_revising_keeps_the_old_version(clinician_client, patient):
    _sign_all_consents(patient)
    for _ in range(2):
        response = _page(clinician_client, patient)
        clinician_client.post(response.request["PATH_INFO"], _accept_data(response))
    plans = list(Plan.objects.filter(patient=patient).order_by("version"))
    assert [(p.version, p.status) for p in plans] == [(1, "superseded"), (2, "accepted")]
    assert plans[1].previous == plans[0]


def test_closing_needs_a_reason(clinician_client, patient):
    _sign_all_consents(patient)
    response = _page(clinician_client, patient)
    clinician_client.post(response.request["PATH_INFO"], _accept_data(response))
    plan = Plan.objects.get()
    clinician_client.post(reverse("treatments:plan_close", args=[plan.pk]), {"reason": ""})
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACCEPTED
    clinician_client.post(reverse("treatments:plan_close", args=[plan.pk]), {"reason": "moved away"})
    plan.refresh_from_db()
    assert (plan.status, plan.close_reason) == ("closed", "moved away")


def test_clearance_turns_a_relative_contraindication_into_an_option(clinician_client, patient):
    ConditionRecordFactory(patient=patient, condition=factories.condition("anticoagulant"))
    response = _page(clinician_client, patient)
    options = _items(response)[0].options
    held = [o for o in options if o.status == OptionStatus.NEEDS_CLEARANCE]
    assert held
    treatment = held[0].treatment
    clinician_client.post(
        reverse("treatments:clearance_create", args=[patient.pk]),
        {"treatment": treatment, "condition": "anticoagulant", "reason": "prescriber agreed"},
    )
    assert Clearance.objects.get(patient=patient).reason == "prescriber agreed"
    options = _items(_page(clinician_client, patient))[0].options
    cleared = next(o for o in options if o.treatment == treatment and o.areas == held[0].areas)
    assert cleared.status == OptionStatus.OK


def test_a_clearance_needs_a_reason(clinician_client, patient):
    clinician_client.post(
        reverse("treatments:clearance_create", args=[patient.pk]),
        {"treatment": "mn", "condition": "anticoagulant", "reason": " "},
    )
    assert not Clearance.objects.exists()


def test_front_desk_sees_the_visits_but_not_the_reasoning(clinician_client, front_desk_user, patient):
    _sign_all_consents(patient)
    response = _page(clinician_client, patient)
    clinician_client.post(response.request["PATH_INFO"], _accept_data(response))
    plan = Plan.objects.get()
    front_desk_client = Client()
    front_desk_client.force_login(front_desk_user)
    page = front_desk_client.get(reverse("treatments:plan_detail", args=[plan.pk])).content.decode()
    assert "Visits to book" in page
    assert "What was chosen and why" not in page
    assert front_desk_client.get(reverse("treatments:plan_builder", args=[patient.pk])).status_code == 403
    assert Treatment.objects.filter(slug=plan.chosen["items"][0]["treatment"]).exists()
