"""The plan builder's formset: one form per item, errors on their item, one service call."""

from datetime import date

import pytest
from django.urls import reverse

from patients.models import ConsentForm, PatientConsent
from tests.factories import ConcernFactory, ConditionRecordFactory, PatientFactory, condition
from treatments.engine.plan_choices import PlanChoices
from treatments.engine.plan_results import Suggestion
from treatments.models import Plan
from treatments.services.plans import NOTHING_CHOSEN
from treatments.web.plan_forms import SESSIONS_INVALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    patient = PatientFactory(fitzpatrick=2, date_of_birth=date(1990, 1, 1))
    ConcernFactory(patient=patient, areas=["cheeks"])
    for form in ConsentForm.objects.filter(active=True):
        PatientConsent.objects.create(patient=patient, form=form, signed_on=date(2026, 11, 1))
    return patient


def _url(patient):
    return reverse("treatments:plan_builder", args=[patient.pk])


def _as_shown(response, **extra):
    formset = response.context["formset"]
    current = response.context["current_plan"]
    data = {"basis": formset.basis, "replaces": current.pk if current else ""}
    data.update({formset.add_prefix(name): value for name, value in formset.management_form.initial.items()})
    for form in formset:
        data[form.add_prefix("option")] = form.selected
        data[form.add_prefix("acknowledged")] = "on"
        for name in form.fields:
            if form.add_prefix(name) not in data and form[name].value() is not None:
                data[form.add_prefix(name)] = form[name].value()
    data.update(extra)
    return data


def test_a_wrong_entry_is_shown_on_its_item_with_what_was_typed(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    response = clinician_client.post(_url(patient), _as_shown(page, **{"item-0-sessions": "abc"}))
    assert response.status_code == 400
    assert response.context["formset"].forms[0].problems() == [SESSIONS_INVALID]
    assert 'value="abc"' in response.content.decode()
    assert not Plan.objects.exists()


def test_a_record_changed_since_the_page_was_opened_is_not_accepted(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    ConcernFactory(patient=patient, areas=["forehead"])
    response = clinician_client.post(_url(patient), _as_shown(page))
    assert response.status_code == 200
    assert "changed since this page was opened" in response.content.decode()
    assert not Plan.objects.exists()


def test_choosing_no_treatment_anywhere_stores_nothing(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    response = clinician_client.post(_url(patient), _as_shown(page, **{"item-0-option": "none"}))
    assert NOTHING_CHOSEN in response.content.decode()
    assert not Plan.objects.exists()


def test_a_depth_outside_the_range_needs_a_reason_and_is_kept_with_the_plan(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    form = page.context["formset"].forms[0]
    (area, depth_field), *_ = form.depth_fields()
    deep = {depth_field.html_name: "9.5"}
    response = clinician_client.post(_url(patient), _as_shown(page, **deep))
    assert response.status_code == 400
    assert any(f"needle depth on {area}" in p for p in response.context["formset"].forms[0].problems())
    assert not Plan.objects.exists()
    response = clinician_client.post(
        _url(patient), _as_shown(page, **deep, **{"item-0-reason": "thick scars"})
    )
    assert response.status_code == 302
    chosen = PlanChoices.from_json(Plan.objects.get().chosen)
    assert (chosen.items[0].depths[area], chosen.items[0].reason) == (9.5, "thick scars")


def test_the_stored_plan_reads_back_as_the_typed_suggestion_and_choices(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    clinician_client.post(_url(patient), _as_shown(page))
    plan = Plan.objects.get()
    suggestion = Suggestion.from_json(plan.suggestion)
    chosen = PlanChoices.from_json(plan.chosen)
    assert suggestion == page.context["suggestion"]
    shown = page.context["formset"].forms[0].shown_option
    assert chosen.items[0].option == shown
    assert plan.planned_sessions.count() == sum(len(v.procedures) for v in chosen.visits)


def test_a_post_without_the_formset_counts_writes_nothing(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    data = {key: value for key, value in _as_shown(page).items() if "FORMS" not in key}
    response = clinician_client.post(_url(patient), data)
    assert response.status_code == 400
    assert not Plan.objects.exists()


def test_the_builder_answers_only_get_and_post(clinician_client, patient):
    assert clinician_client.put(_url(patient)).status_code == 405


def test_an_anonymous_visitor_is_sent_to_log_in(client, patient):
    response = client.get(_url(patient))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_plan_accepted_by_someone_else_meanwhile_is_named_and_nothing_is_overwritten(
    client, clinician_user, patient
):
    from django.test import Client

    from tests import factories

    other = Client()
    other.force_login(factories.clinician(first_name="Maya", last_name="Cole"))
    client.force_login(clinician_user)
    mine = client.get(_url(patient))
    theirs = other.get(_url(patient))
    assert other.post(_url(patient), _as_shown(theirs)).status_code == 302

    response = client.post(_url(patient), _as_shown(mine, **{"item-0-reason": "kept as typed"}))
    page = response.content.decode()
    assert "Plan version 1 was accepted by Maya Cole" in page
    assert "kept as typed" in page
    assert list(Plan.objects.values_list("version", "status")) == [(1, "accepted")]


def test_a_revision_made_from_the_current_plan_replaces_it(clinician_client, patient):
    assert (
        clinician_client.post(_url(patient), _as_shown(clinician_client.get(_url(patient)))).status_code
        == 302
    )
    revise = clinician_client.get(_url(patient))
    assert clinician_client.post(_url(patient), _as_shown(revise)).status_code == 302
    assert sorted(Plan.objects.values_list("version", "status")) == [(1, "superseded"), (2, "accepted")]


def _untouched(response):
    """The page posted as the browser sends it when the clinician changes nothing: the selected
    option and the shown values, no acknowledgement ticked."""
    data = _as_shown(response)
    return {name: value for name, value in data.items() if not name.endswith("-acknowledged")}


def test_the_suggestion_accepted_untouched_is_stored(clinician_client, patient):
    page = clinician_client.get(_url(patient))
    assert not any(form.shown_option.flags for form in page.context["formset"])  # nothing to confirm
    response = clinician_client.post(_url(patient), _untouched(page))
    assert response.status_code == 302
    assert Plan.objects.filter(patient=patient).count() == 1


def test_an_untouched_option_with_precautions_asks_to_confirm_them_not_to_choose_a_treatment(
    clinician_client, patient
):
    ConditionRecordFactory(patient=patient, condition=condition("herpes_simplex_history"))
    page = clinician_client.get(_url(patient))
    assert any(form.shown_option.flags for form in page.context["formset"])
    response = clinician_client.post(_url(patient), _untouched(page))
    body = response.content.decode()
    assert response.status_code == 400 and not Plan.objects.exists()
    assert "Confirm you have read the precautions for" in body
    assert NOTHING_CHOSEN not in body
