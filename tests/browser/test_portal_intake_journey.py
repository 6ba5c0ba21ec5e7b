"""A patient on a phone fills in the intake questionnaire before the first visit; a clinician reviews
it on the staff side and only then does the answer enter the medical history (issue 17)."""

import re
from datetime import date

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from patients.models import ConditionRecord, IntakeSubmission
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_patient_fills_the_intake_on_a_phone_and_a_clinician_reviews_it_into_the_history(
    browser, live_server, catalog, mailoutbox, page, login, screenshot
):
    cache.clear()
    patient = factories.PatientFactory(
        first_name="Amara", last_name="Velde", email="amara.velde@example.com", date_of_birth=date(1991, 7, 2)
    )
    doctor = factories.clinician()

    phone = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    mobile = phone.new_page()
    errors: list[str] = []
    # A page's own resources by their answers (the browser's favicon request is not one of them).
    mobile.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    mobile.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )

    mobile.goto("/portal/")
    mobile.get_by_label("Your e-mail address or mobile phone number").fill("amara.velde@example.com")
    mobile.get_by_role("button", name="Send me a sign-in link").click()
    path = re.search(r"/portal/link/[A-Za-z0-9_\-]+/", mailoutbox[-1].body).group(0)
    mobile.goto(path)
    mobile.get_by_label("Your date of birth").fill("1991-07-02")
    mobile.get_by_role("button", name="Continue").click()
    expect(mobile.get_by_role("heading", name="Hello Amara")).to_be_visible()

    # Before the first visit the home page asks for the questionnaire.
    expect(
        mobile.get_by_role("heading", name="Tell us about your health before your first visit")
    ).to_be_visible()
    screenshot(mobile, "intake-01-home-invitation")
    mobile.get_by_role("link", name="Fill in the questionnaire").click()
    expect(mobile.get_by_role("heading", name="Your health questionnaire")).to_be_visible()
    assert _no_horizontal_scroll(mobile)
    when = mobile.locator("input[name=date_isotretinoin]")
    expect(when).to_be_hidden()  # asked only once the question is ticked
    mobile.locator("input[name=yes_isotretinoin]").check()
    expect(when).to_be_visible()
    box = when.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    when.fill("2025-11-03")
    mobile.locator("input[name=details_isotretinoin]").fill("Stopped in March")
    mobile.get_by_label("Other allergies").fill("Latex")
    screenshot(mobile, "intake-02-questionnaire-filled")
    mobile.get_by_role("button", name="Send my answers").click()

    expect(mobile.get_by_text("Your answers were sent to the clinic")).to_be_visible()
    expect(mobile.get_by_test_id("home-intake-waiting")).to_contain_text(
        "Your answers are waiting for the clinic's review."
    )
    screenshot(mobile, "intake-03-waiting-for-review")
    assert _no_horizontal_scroll(mobile)
    intake = IntakeSubmission.objects.get(patient=patient)
    assert (intake.source, intake.status) == ("portal", "pending")
    assert not ConditionRecord.objects.filter(patient=patient).exists(), "in the history before review"

    # While it waits the patient may look again: the answers are there to change.
    mobile.get_by_role("link", name="Change my answers").click()
    expect(mobile.get_by_test_id("intake-waiting")).to_be_visible()
    expect(mobile.locator("input[name=yes_isotretinoin]")).to_be_checked()
    expect(mobile.locator("input[name=details_isotretinoin]")).to_have_value("Stopped in March")

    # The clinician's side: where the answers came from, the review, the history.
    login(doctor.username)
    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_text("From the patient portal")).to_be_visible()
    page.get_by_role("link", name="Review").click()
    expect(page.get_by_test_id("intake-source")).to_have_text("From the patient portal")
    expect(page.get_by_text("Latex")).to_be_visible()
    screenshot(page, "intake-04-clinician-review")
    page.get_by_role("button", name="Confirm review").click()
    expect(page.get_by_text("Intake reviewed: 1 entry")).to_be_visible()
    page.goto(f"/patients/{patient.pk}/history/")
    expect(page.get_by_text("Stopped in March").first).to_be_visible()
    screenshot(page, "intake-05-in-the-history")
    record = ConditionRecord.objects.get(patient=patient)
    assert (record.condition.slug, str(record.since), record.source) == (
        "isotretinoin",
        "2025-11-03",
        "intake",
    )

    # Back on the phone: nothing waits any more, and the invitation is gone with the reviewed intake.
    mobile.goto("/portal/home/")
    expect(mobile.get_by_role("heading", name="Hello Amara")).to_be_visible()
    expect(mobile.get_by_test_id("home-intake-waiting")).to_have_count(0)
    expect(mobile.get_by_test_id("home-intake-invite")).to_have_count(0)
    assert not errors, errors
    phone.close()
