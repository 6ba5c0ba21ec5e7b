from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import ConsentForm, PatientConsent
from tests import factories
from tests.factories import ConcernFactory, ConditionRecordFactory, PatientFactory
from treatments.models import ContraindicationRule, Plan

pytestmark = pytest.mark.django_db(transaction=True)


def _toxin_rule_for_peels():
    return (
        ContraindicationRule.objects.filter(
            condition__slug="botulinum_toxin", group__members__slug="peel_salicylic"
        )
        .distinct()
        .get()
    )


def test_clinician_plans_around_keloid_tendency_and_admin_moves_a_waiting_window(page, login):
    today = timezone.localdate()
    toxin_day = today - timedelta(days=3)
    patient = PatientFactory(
        first_name="Kim", last_name="Keloid", fitzpatrick=2, date_of_birth=date(1990, 1, 1)
    )
    ConcernFactory(patient=patient, areas=["cheeks"])
    ConditionRecordFactory(patient=patient, condition=factories.condition("keloid_tendency"))
    ConditionRecordFactory(
        patient=patient, condition=factories.condition("botulinum_toxin"), since=toxin_day, areas=["cheeks"]
    )
    for form in ConsentForm.objects.filter(active=True):
        PatientConsent.objects.create(patient=patient, form=form, signed_on=today)
    doctor = factories.clinician()
    admin = factories.clinic_admin()
    rule = _toxin_rule_for_peels()

    login(doctor.username)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Suggest a plan").click()
    not_offered = page.locator("li", has_text="Microneedling").filter(has_text="Keloid")
    expect(not_offered.first).to_be_visible()

    clearance = page.locator("details", has_text="Clear Keloid").first
    clearance.locator("summary").click()
    clearance.get_by_placeholder("Reason (e.g. prescriber agreed)").fill(
        "Physician reviewed: no keloid on the face"
    )
    clearance.get_by_role("button", name="Record clearance").click()
    expect(page.get_by_text("cleared for")).to_be_visible()

    first_window = toxin_day + timedelta(days=rule.window_days)
    expect(page.get_by_text(f"from {first_window.day} {first_window:%b %Y}").first).to_be_visible()
    page.get_by_label("I have read the flags and precautions of the chosen option").first.check()
    page.get_by_role("button", name="Accept plan").click()
    expect(page.get_by_text("Plan version 1 accepted.")).to_be_visible()
    assert Plan.objects.get(patient=patient).status == "accepted"

    page.context.clear_cookies()
    login(admin.username)
    page.goto(f"/admin/treatments/contraindicationrule/{rule.pk}/change/")
    page.get_by_label("Window days").fill(str(rule.window_days + 14))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    page.context.clear_cookies()
    login(doctor.username)
    page.goto(f"/patients/{patient.pk}/plan/")
    later_window = toxin_day + timedelta(days=rule.window_days + 14)
    expect(page.get_by_text(f"from {later_window.day} {later_window:%b %Y}").first).to_be_visible()
