import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from tests import factories
from treatments.models import Appointment, OutcomeScore, SessionRecord
from treatments.selectors.availability import clinic_zone
from treatments.selectors.session_context import session_context

pytestmark = pytest.mark.django_db(transaction=True)


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (210, 150, 130)).save(buffer, "PNG")
    return buffer.getvalue()


def test_clinician_screens_records_signs_prints_aftercare_and_sees_progress(page, login):
    doctor_user = factories.clinician(first_name="Dana", last_name="Lee")
    doctor = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=doctor_user)
    patient = factories.PatientFactory(first_name="Rosa", last_name="Record")
    concern = factories.ConcernFactory(patient=patient, concern=factories.skin_concern("acne_scars_atrophic"))
    today = timezone.localdate()
    plan = factories.make_accepted_plan(
        patient, start=today - timedelta(days=28), sessions=3, treatment_slug="mn_prp", interval=(28, 28, 42)
    )
    first, second, _ = plan.planned_sessions.order_by("visit")
    earlier = factories.make_session(
        patient=patient,
        practitioner=doctor,
        treatment_slug="mn_prp",
        start=datetime.combine(today - timedelta(days=28), time(10), tzinfo=clinic_zone()),
        status=Appointment.Status.COMPLETED,
        plan=plan,
        planned_session=first,
    )
    OutcomeScore.objects.create(
        appointment=earlier, concern=concern, clinician_score=2, patient_score=1, recorded_by=doctor_user
    )
    session = factories.make_session(
        patient=patient,
        practitioner=doctor,
        treatment_slug="mn_prp",
        area_slugs=("cheeks", "forehead"),
        start=datetime.combine(today, time(23), tzinfo=clinic_zone()),
        plan=plan,
        planned_session=second,
        consent=False,  # signed already for the earlier session
    )

    login(doctor_user.username)
    page.goto("/my-day/")
    row = page.get_by_role("row", name="Rosa Record")
    expect(row).to_contain_text("Microneedling with PRP")
    row.get_by_role("link", name="Open session").click()

    # Screening: every catalog question answered "no", consent on file, before-photos taken.
    expect(page.get_by_role("heading", name="Day-of screening")).to_be_visible()
    questions = page.locator("input[type=radio][value=no]")
    assert questions.count() >= 3
    for index in range(questions.count()):
        questions.nth(index).check()
    page.locator("input[name=photos_taken][value=yes]").check()
    page.get_by_label("The signed consent for this treatment is on file").check()
    page.get_by_role("button", name="Record screening").click()
    expect(page.get_by_text("Screening recorded. The session is in progress.")).to_be_visible()

    # Procedure: microneedling with PRP on both areas, within the safe ranges.
    limits = session_context(Appointment.objects.get(pk=session.pk)).limits
    for area, bounds in limits["needle_depth_mm"].items():
        page.locator(f"input[name=depth_{area}]").fill(f"{bounds['min']}")
    assert set(limits["needle_depth_mm"]) >= {"cheeks", "forehead"}
    page.get_by_label("Device").fill("Pen 1")
    page.get_by_label("Cartridge / needle lot").fill("NL-2291")
    page.get_by_label("Cartridge expiry").fill("2030-06-30")
    page.get_by_label("Passes").fill("3")
    page.get_by_label("Endpoint").select_option("pinpoint_bleeding")
    page.get_by_label("Blood drawn (mL)").fill("20")
    page.get_by_label("Centrifuge protocol").fill("1500 g, 10 min, single spin")
    page.get_by_label("PRP volume (mL)").fill("4")
    page.get_by_label("PRP application").select_option("topical_with_microneedling")
    page.get_by_label("Topical anaesthetic").fill("Lidocaine 5% cream")
    page.get_by_label("Anaesthetic time (min)").fill("30")
    page.get_by_label("Pain (0-10)").fill("3")
    page.get_by_label("Erythema grade").select_option("2")
    page.get_by_label("Oedema grade").select_option("1")
    page.get_by_role("button", name="Save procedure").click()
    expect(page.get_by_text("Procedure saved.")).to_be_visible()

    page.get_by_label("Photo (JPEG, PNG or WebP, up to 10 MB)").set_input_files(
        files=[{"name": "after.png", "mimeType": "image/png", "buffer": png()}]
    )
    page.locator("select[name=area]").select_option(label="Cheeks")
    page.locator("select[name=kind]").select_option("after")
    page.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_role("img", name="After photo, Cheeks")).to_be_visible()

    page.get_by_label("Atrophic acne scars: clinician score").fill("5")
    page.get_by_label("Atrophic acne scars: patient's score").fill("4")
    page.get_by_role("button", name="Save scores").click()
    expect(page.get_by_text("Outcome scores saved.")).to_be_visible()

    # The aftercare sheet prints without the page chrome.
    record_url = page.url.split("#")[0]
    page.goto(f"/sessions/{session.pk}/aftercare/")
    sheet = page.locator("article.aftercare-sheet")
    for line in session.treatment.aftercare_lines():
        expect(sheet).to_contain_text(line)
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    assert page.pdf()[:4] == b"%PDF"
    page.emulate_media(media="screen")

    page.goto(record_url)
    page.get_by_label("I gave the patient the aftercare instructions").check()
    page.get_by_role("button", name="Sign record").click()
    expect(page.get_by_text("Record signed. The session is completed.")).to_be_visible()
    expect(page.get_by_role("button", name="Save procedure")).to_have_count(0)
    record = SessionRecord.objects.get(appointment=session)
    assert record.signed_by == doctor_user
    assert record.values["needle_depth_mm"].keys() >= {"cheeks", "forehead"}
    assert record.values["prp_application"] == "topical_with_microneedling"

    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_text("2 of 3 sessions done")).to_be_visible()
    chart = page.get_by_role("img", name="Scores for Atrophic acne scars")
    expect(chart).to_be_visible()
    assert page.evaluate("Chart.getChart('progress-chart-0').data.datasets[0].data") == [2, 5]
