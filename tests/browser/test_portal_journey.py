"""A patient on a phone signs in to the portal by a link, reads the plan, and cannot open another
patient's session (issue 17)."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from treatments.models import Treatment

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_patient_signs_in_by_link_reads_the_plan_and_cannot_open_another_session(
    browser, live_server, catalog, mailoutbox, screenshot
):
    cache.clear()
    Treatment.objects.filter(slug="mn").update(
        pre_care="Arrive with clean skin, no make-up",
        aftercare="No make-up for 24 hours\nUse a gentle cleanser",
    )
    patient = factories.PatientFactory(
        first_name="Lucia", email="lucia.ferreira@example.com", date_of_birth=date(1992, 3, 14)
    )
    practitioner = factories.make_practitioner(factories.make_location(name="Harbour Street"))
    start = timezone.localdate() + timedelta(days=7)
    plan = factories.make_accepted_plan(patient, start=start, sessions=3)
    factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=timezone.make_aware(datetime.combine(start, time(10))),
        plan=plan,
        planned_session=plan.planned_sessions.first(),
    )
    other = factories.make_session(
        practitioner=practitioner, start=timezone.make_aware(datetime.combine(start, time(13)))
    )

    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error"
            and "Failed to load resource" not in message.text  # the 404 and 410 asked for
            else None
        ),
    )

    page.goto("/portal/")
    screenshot(page, "portal-01-sign-in")
    assert _no_horizontal_scroll(page)
    page.get_by_label("Your e-mail address or mobile phone number").fill("lucia.ferreira@example.com")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_test_id("portal-sent")).to_contain_text("If these details match a patient")
    screenshot(page, "portal-02-link-sent")

    assert len(mailoutbox) == 1
    path = re.search(r"/portal/link/[A-Za-z0-9_\-]+/", mailoutbox[0].body).group(0)
    page.goto(path)
    page.get_by_label("Your date of birth").fill("1992-03-15")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That birth date does not match our records")).to_be_visible()
    screenshot(page, "portal-03-wrong-birth-date")
    page.get_by_label("Your date of birth").fill("1992-03-14")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Hello Lucia")).to_be_visible()
    assert page.url.endswith("/portal/home/")
    treatment_name = Treatment.objects.get(slug="mn").name
    card = page.get_by_test_id("plan-treatment")
    expect(card).to_contain_text(treatment_name)
    expect(card).to_contain_text("3 sessions, about 4 weeks apart")
    expect(card).to_contain_text("Arrive with clean skin, no make-up")
    expect(card).to_contain_text("Use a gentle cleanser")
    expect(page.get_by_role("region", name="Your next sessions")).to_contain_text("Harbour Street")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    screenshot(page, "portal-04-home-plan")
    assert _no_horizontal_scroll(page)
    page.set_viewport_size({"width": 375, "height": 812})
    assert _no_horizontal_scroll(page)
    page.set_viewport_size(PHONE)

    page.get_by_role("region", name="Your next sessions").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=treatment_name)).to_be_visible()
    expect(page.get_by_text("10:00")).to_be_visible()
    screenshot(page, "portal-05-session")
    assert _no_horizontal_scroll(page)

    response = page.goto(f"/portal/sessions/{other.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text(other.patient.first_name)
    screenshot(page, "portal-06-other-session-404")

    page.goto("/portal/home/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/portal/home/")
    assert page.url.endswith("/portal/")
    # The link worked once: opening it again says so and offers a new one.
    page.goto(path)
    expect(page.get_by_text("This sign-in link has already been used")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    assert not errors, errors
    context.close()
