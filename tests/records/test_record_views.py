"""The record pages: who may see them, what the front desk sees, photos, locking."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from tests import factories
from treatments.models import SessionPhoto, SessionRecord
from treatments.selectors.session_context import session_context
from treatments.services import recording

pytestmark = pytest.mark.django_db


def png_bytes(size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 100)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name, content, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def session(clinician_user):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    return factories.make_session(practitioner=practitioner, area_slugs=("cheeks", "forehead"))


def screened(client, session):
    response = client.post(reverse("treatments:record_screening", args=[session.pk]), screening_post(session))
    assert response.status_code == 302, response.content.decode()[-3000:]


def screening_post(session, **answers):
    context = session_context(session)
    data = {f"q_{q['condition']}": "no" for q in context.checklist}
    # The factory's random age may add a precaution (under 22 for microneedling): followed.
    data.update({f"p_{flag['code']}": "yes" for flag in context.precautions})
    data.update({f"q_{slug}": value for slug, value in answers.items()})
    data.update({"consent_confirmed": "on", "photos_taken": "yes", "new_medications": ""})
    return data


def test_the_record_page_is_for_clinicians_only(client, front_desk_client, session):
    url = reverse("treatments:session_record", args=[session.pk])
    assert front_desk_client.get(url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_stopped_session_tells_the_front_desk_only_that_it_was_clinical(
    clinician_client, session, front_desk_user, client
):
    url = reverse("treatments:record_screening", args=[session.pk])
    response = clinician_client.post(url, screening_post(session, active_infection="yes"))
    assert response.status_code == 302
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    assert "Stopped at screening" in page and "infection" in page.lower()

    client.force_login(front_desk_user)
    panel = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert recording.STOPPED_REASON in panel
    assert "infection" not in panel.lower()


def test_an_unanswered_question_is_refused_and_the_answers_kept(clinician_client, session):
    data = screening_post(session)
    data.pop("q_active_infection")
    data["new_medications"] = "Doxycycline since last week"
    response = clinician_client.post(reverse("treatments:record_screening", args=[session.pk]), data)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert "Doxycycline since last week" in response.content.decode()
    assert not SessionRecord.objects.filter(appointment=session, screened_at__isnull=False).exists()


def test_every_procedure_problem_comes_in_one_round(clinician_client, session):
    screened(clinician_client, session)
    limits = session_context(session).limits
    data = {
        "device": "Pen 1",
        "needle_lot": "LOT-78",
        "needle_expiry": "2099-01-01",
        "passes": "not a number",
        "endpoint": "pinpoint_bleeding",
        "pain_score": "4",
        "erythema_grade": "2",
        "oedema_grade": "1",
        "notes": "",
    }
    data.update({f"depth_{area}": f"{b['min']}" for area, b in limits["needle_depth_mm"].items()})
    data["depth_cheeks"] = f"{limits['needle_depth_mm']['cheeks']['max'] + 0.5}"
    response = clinician_client.post(reverse("treatments:record_procedure", args=[session.pk]), data)
    body = response.content.decode()
    assert response.status_code == 400
    # The unreadable number and the depth past the safe maximum, together.
    assert "Enter a whole number." in body and "above the safe maximum" in body


def test_an_out_of_range_depth_asks_for_a_reason_and_keeps_the_input(clinician_client, session):
    screened(clinician_client, session)
    limits = session_context(session).limits
    too_deep = limits["needle_depth_mm"]["cheeks"]["max"] + 0.5
    data = {
        "device": "Pen 1",
        "needle_lot": "LOT-77",
        "needle_expiry": "2099-01-01",
        "passes": "3",
        "endpoint": "pinpoint_bleeding",
        "pain_score": "4",
        "erythema_grade": "2",
        "oedema_grade": "1",
        "notes": "",
    }
    data.update({f"depth_{area}": f"{b['min']}" for area, b in limits["needle_depth_mm"].items()})
    data["depth_cheeks"] = f"{too_deep}"
    url = reverse("treatments:record_procedure", args=[session.pk])
    response = clinician_client.post(url, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "above the safe maximum" in body and "LOT-77" in body
    assert SessionRecord.objects.get(appointment=session).values == {}

    data["confirm_depth_cheeks"] = "Deep rolling scars"
    assert clinician_client.post(url, data).status_code == 302
    record = SessionRecord.objects.get(appointment=session)
    assert record.values["needle_depth_mm"]["cheeks"] == too_deep
    assert record.confirmations["needle_depth_mm.cheeks"]["reason"] == "Deep rolling scars"


def test_an_expired_cartridge_is_refused(clinician_client, session):
    screened(clinician_client, session)
    response = clinician_client.post(
        reverse("treatments:record_procedure", args=[session.pk]), {"needle_expiry": "2020-01-01"}
    )
    assert response.status_code == 400
    assert "expired on 01 Jan 2020" in response.content.decode()


def test_editing_a_signed_record_is_refused(clinician_client, session):
    by = session.practitioner.user
    factories.screen_clear(session)
    recording.procedure_save(
        appointment=session,
        context=session_context(session),
        values={"passes": 2},
        notes="",
        confirmations={},
        by=by,
    )
    recording.record_sign(appointment=session, aftercare_given=True, by=by)

    response = clinician_client.post(
        reverse("treatments:record_procedure", args=[session.pk]), {"passes": "5"}
    )
    assert response.status_code == 409
    assert "signed and can no longer be edited" in response.content.decode()
    assert SessionRecord.objects.get(appointment=session).values == {"passes": 2}

    response = clinician_client.post(
        reverse("treatments:record_addendum", args=[session.pk]),
        {"text": "Passes were 3", "reason": "Miscount"},
    )
    assert response.status_code == 302
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    assert "Passes were 3" in page and "Miscount" in page


def test_photos_are_stored_privately_and_served_to_clinicians_only(
    clinician_client, session, front_desk_user, client, private_media
):
    factories.screen_clear(session)
    area = session.areas.get(slug="cheeks")
    response = clinician_client.post(
        reverse("treatments:record_photo", args=[session.pk]),
        {"area": area.pk, "kind": "before", "image": upload("cheek.png", png_bytes(), "image/png")},
    )
    assert response.status_code == 302
    photo = SessionPhoto.objects.get(appointment=session)
    assert photo.content_type == "image/png"
    stored = private_media / photo.image.name
    assert stored.exists() and str(session.patient.last_name) not in photo.image.name

    url = reverse("treatments:photo", args=[photo.pk])
    served = clinician_client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == stored.read_bytes()
    assert "no-store" in served["Cache-Control"]

    client.force_login(front_desk_user)
    assert client.get(url).status_code == 403
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("notes.png", b"this is not an image", "Upload a valid image"),
        ("scan.pdf", png_bytes(), "is not allowed"),
    ],
)
def test_a_non_image_upload_is_refused_with_a_message(clinician_client, session, name, content, message):
    factories.screen_clear(session)
    response = clinician_client.post(
        reverse("treatments:record_photo", args=[session.pk]),
        {"area": session.areas.first().pk, "kind": "before", "image": upload(name, content, "image/png")},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SessionPhoto.objects.exists()


def test_my_day_lists_todays_sessions_in_order_with_alerts(clinician_client, clinician_user):
    from datetime import timedelta

    from django.utils import timezone

    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    now = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    late = factories.make_session(practitioner=practitioner, start=now + timedelta(hours=2))
    early = factories.make_session(practitioner=practitioner, start=now - timedelta(hours=2))
    factories.ConditionRecordFactory(
        patient=late.patient, condition=factories.condition("herpes_simplex_history")
    )
    late.patient.other_allergies = "Lidocaine"
    late.patient.save()

    body = clinician_client.get(reverse("treatments:my_day")).content.decode()
    assert body.index(early.patient.full_name) < body.index(late.patient.full_name)
    assert "Allergies: Lidocaine" in body
    assert "Precaution" in body


@pytest.mark.parametrize("query", ["?date={day}", "?date=2027-13-45", "?date=not-a-day"])
def test_my_day_shows_any_day_with_its_neighbours(clinician_client, clinician_user, query):
    from datetime import timedelta

    from django.utils import timezone

    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    today = timezone.localdate()
    later = today + timedelta(days=3)
    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=3)
    session = factories.make_session(practitioner=practitioner, start=start)
    response = clinician_client.get(reverse("treatments:my_day") + query.format(day=later.isoformat()))
    body = response.content.decode()
    assert response.status_code == 200
    if "{day}" in query:
        assert session.patient.full_name in body
        assert f"?date={(later - timedelta(days=1)).isoformat()}" in body
        assert f"?date={(later + timedelta(days=1)).isoformat()}" in body
        assert ">Today</a>" in body
    else:  # unreadable: today, which holds nothing
        assert session.patient.full_name not in body and "No sessions today." in body


def test_a_precaution_becomes_a_screening_question_and_history_is_listed(clinician_client, session):
    factories.ConditionRecordFactory(
        patient=session.patient, condition=factories.condition("herpes_simplex_history")
    )
    url = reverse("treatments:session_record", args=[session.pk])
    page = clinician_client.get(url).content.decode()
    assert "Precaution followed?" in page and "antiviral" in page.lower()

    data = screening_post(session)
    data["p_herpes_simplex_history"] = "yes"
    assert (
        clinician_client.post(reverse("treatments:record_screening", args=[session.pk]), data).status_code
        == 302
    )
    record = SessionRecord.objects.get(appointment=session)
    followed = {p["code"]: p["followed"] for p in record.screening["precautions"]}
    assert followed["herpes_simplex_history"] is True
    page = clinician_client.get(url).content.decode()
    assert "Record history" in page and "screened" in page
