import pytest
from playwright.sync_api import expect

from patients.models import Concern, ConditionRecord, Patient
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_front_desk_registers_a_patient_and_intake_then_a_clinician_reviews_it(
    page, browser, live_server, login
):
    desk = factories.front_desk()
    doctor = factories.clinician()

    login(desk.username)
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("First name").fill("Ines")
    page.get_by_label("Last name").fill("Duarte")
    page.get_by_label("Date of birth").fill("1994-02-11")
    page.get_by_label("Phone").fill("+1 212 555 0177")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Ines Duarte is registered.")).to_be_visible()

    page.get_by_role("button", name="Start intake questionnaire").click()
    code = page.get_by_test_id("intake-code").inner_text().strip()

    # The patient fills the questionnaire on a tablet that is not logged in.
    tablet = browser.new_context(base_url=live_server.url).new_page()
    tablet.goto("/intake/")
    tablet.get_by_label("Code from the front desk").fill(code)
    tablet.get_by_role("button", name="Start").click()
    expect(tablet.get_by_role("heading", name="Hello Ines")).to_be_visible()
    tablet.locator("input[name=yes_isotretinoin]").check()
    tablet.locator("input[name=date_isotretinoin]").fill("2026-01-10")
    tablet.locator("input[name=details_isotretinoin]").fill("Stopped in August")
    tablet.get_by_label("Other allergies").fill("Penicillin")
    tablet.get_by_role("button", name="Send my answers").click()
    expect(tablet.get_by_text("Your answers were sent")).to_be_visible()
    tablet.context.close()

    page.context.clear_cookies()
    login(doctor.username)
    patient = Patient.objects.get(last_name="Duarte")
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Review").click()
    page.locator("input[name=entry-0-until]").fill("2026-08-24")
    page.get_by_role("button", name="Confirm review").click()
    expect(page.get_by_text("Intake reviewed: 1 entry")).to_be_visible()

    page.get_by_role("link", name="Add a concern").click()
    page.get_by_label("Concern").select_option(label="Atrophic acne scars")
    page.get_by_label("Areas").select_option(label="\u2003Cheeks")
    page.get_by_label("Goal").fill("Smoother skin")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Concern added.")).to_be_visible()

    page.get_by_role("link", name="Add to history").click()
    page.get_by_label("Condition").select_option(label="Botulinum toxin")
    page.get_by_label("Areas").select_option(label="\u2003Forehead")
    page.get_by_label("Since").fill("2026-11-17")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Medical history updated.")).to_be_visible()

    records = {r.condition.slug: r for r in ConditionRecord.objects.filter(patient=patient)}
    assert str(records["isotretinoin"].until) == "2026-08-24"
    assert str(records["botulinum_toxin"].since) == "2026-11-17"
    assert Concern.objects.get(patient=patient).concern.slug == "acne_scars_atrophic"
    assert "Penicillin" in Patient.objects.get(pk=patient.pk).other_allergies
