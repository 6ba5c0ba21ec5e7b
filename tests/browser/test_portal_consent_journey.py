"""E-consent (issue 17): a clinician sends a plan to the patient to sign; the patient reads and signs
it on a phone (390 x 844), typed name and a signature drawn with signature_pad; the clinician sees the
signed consent at screening."""

import re
from datetime import date

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from patients.models import ConsentForm
from tests import factories
from treatments.models import Plan, PlanConsent

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _draw(page, canvas) -> None:
    """A signature drawn with a finger: one stroke across the box."""
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for fx, fy in ((0.25, 0.3), (0.4, 0.75), (0.55, 0.35), (0.7, 0.7), (0.9, 0.4)):
        page.mouse.move(x + w * fx, y + h * fy, steps=6)
    page.mouse.up()


def test_the_patient_signs_the_plan_on_the_phone_and_the_clinician_sees_it_at_screening(
    page, login, browser, live_server, mailoutbox, tmp_path, screenshot
):
    cache.clear()
    doctor_user = factories.clinician(first_name="Dana", last_name="Lee")
    doctor = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=doctor_user)
    patient = factories.PatientFactory(
        first_name="Lucia",
        last_name="Ferreira",
        email="lucia.ferreira@example.com",
        date_of_birth=date(1992, 3, 14),
        fitzpatrick=2,
    )
    factories.ConcernFactory(patient=patient, areas=["cheeks"])

    # The clinician proposes a plan and sends it to the patient to sign.
    login(doctor_user.username)
    page.goto(f"/patients/{patient.pk}/plan/")
    for box in page.get_by_label("I have read the flags and precautions of the chosen option").all():
        box.check()
    page.get_by_role("button", name="Send to the patient to sign").click()
    expect(page.get_by_text("Plan version 1 was sent to the patient to sign")).to_be_visible()
    invitation = mailoutbox[-1]
    assert invitation.to == [patient.email] and "ready to read and sign" in invitation.subject
    plan = Plan.objects.get(patient=patient)
    assert plan.status == Plan.Status.AWAITING_CONSENT
    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_test_id("awaiting-plans").first).to_contain_text(
        "Waiting for the patient's consent (sent"
    )

    # The patient, on a phone, signs in and opens the plan waiting for their consent.
    phone = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3
    )
    phone.set_default_timeout(10_000)
    mobile = phone.new_page()
    errors: list[str] = []
    mobile.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "status of 400" not in message.text  # the refusal asked for
            else None
        ),
    )
    mobile.on("pageerror", lambda error: errors.append(str(error)))
    # The link in the clinic's message lands on the consent page once the birth date is confirmed.
    mobile.goto(re.search(r"/portal/link/[A-Za-z0-9_\-]+/", invitation.body).group(0))
    mobile.get_by_label("Your date of birth").fill("1992-03-14")
    mobile.get_by_role("button", name="Continue").click()
    expect(mobile.get_by_test_id("consent-document")).to_contain_text("Your plan (version 1)")
    assert mobile.url.endswith(f"/portal/plans/{plan.pk}/consent/")
    mobile.goto("/portal/home/")

    card = mobile.get_by_test_id("consent-card")
    expect(card).to_contain_text("Your new plan is ready: read and sign the consent")
    screenshot(mobile, "consent-01-home-plan-to-sign")
    card.get_by_role("link", name="Read and sign plan version 1").click()
    document = mobile.get_by_test_id("consent-document")
    expect(document).to_contain_text("Your plan (version 1)")
    treatment = plan.planned_sessions.first().treatment
    form = ConsentForm.objects.get(slug=treatment.consent_form.slug, active=True)
    expect(document).to_contain_text(f"{form.title} (version {form.version})")
    expect(document).to_contain_text(form.body[:40])
    assert _no_horizontal_scroll(mobile)

    # The signature box fills the phone's width, its pixels at the screen's density.
    canvas = mobile.locator("canvas[data-signature-canvas]")
    size = canvas.evaluate("c => [c.width, c.height, c.offsetWidth, c.offsetHeight]")
    assert size[2] >= 300 and size[3] >= 150
    assert (size[0], size[1]) == (size[2] * 3, size[3] * 3)

    # Signing with an empty box is refused in words, and so is a name that is not the patient's.
    mobile.get_by_label("Your full name").fill("Lucia Fereira")
    mobile.get_by_label("I have read this document and I agree to it").check()
    mobile.get_by_role("button", name="Sign the consent").click()
    expect(mobile.get_by_test_id("signature-error")).to_have_text("Please draw your signature in the box.")
    expect(mobile.get_by_text("does not match the name the clinic has for you")).to_be_visible()
    assert not PlanConsent.objects.exists()

    # Draw, clear, draw again, type the name, agree, sign.
    canvas = mobile.locator("canvas[data-signature-canvas]")
    canvas.scroll_into_view_if_needed()
    _draw(mobile, canvas)
    screenshot(mobile, "consent-02-document-signed-by-hand")
    assert mobile.locator("#id_signature").input_value().startswith("data:image/png;base64,")
    mobile.get_by_role("button", name="Clear").click()
    assert mobile.locator("#id_signature").input_value() == ""
    _draw(mobile, canvas)
    mobile.get_by_label("Your full name").fill("lucia  ferreira")
    mobile.get_by_label("I have read this document and I agree to it").check()
    mobile.get_by_role("button", name="Sign the consent").click()
    expect(mobile.get_by_text("Thank you: your consent is signed.")).to_be_visible()
    expect(mobile.get_by_test_id("consents-signed")).to_contain_text("Consent signed on")
    expect(mobile.get_by_test_id("consent-card")).to_have_count(0)
    assert _no_horizontal_scroll(mobile)
    consent = PlanConsent.objects.get(plan=plan)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACCEPTED
    assert consent.typed_name == "lucia ferreira" and consent.client_address == "127.0.0.1"
    assert not errors, errors
    screenshot(mobile, "consent-03-signed")
    phone.close()

    # The plan's first visit, today: the clinician opens it and sees the signed consent at screening.
    session = factories.make_session(
        patient=patient,
        practitioner=doctor,
        treatment_slug=treatment.slug,
        plan=plan,
        planned_session=plan.planned_sessions.first(),
        consent=False,
    )
    page.goto(f"/sessions/{session.pk}/record/")
    signed = page.get_by_test_id("plan-consent")
    expect(signed).to_contain_text("Consent signed online by lucia ferreira on")
    expect(signed).to_contain_text("for plan version 1")
    expect(signed).to_contain_text(f"{form.title} (version {form.version})")
    expect(signed).to_contain_text(consent.document_hash[:12])
    expect(signed).to_contain_text("127.0.0.1")
    image = signed.get_by_role("img", name="Signature drawn by lucia ferreira")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("#consent-missing")).to_have_count(0)  # the signed consent is on file
    expect(page.get_by_role("heading", name="Day-of screening")).to_be_visible()
    screenshot(page, "consent-04-clinician-at-screening")
    signed.get_by_role("link", name="View the signed document").click()
    expect(page.get_by_test_id("signed-document")).to_contain_text(form.body[:40])
    expect(page.get_by_text(consent.document_hash)).to_be_visible()
