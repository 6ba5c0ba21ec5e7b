"""The patient's page: their plan in plain words from the catalog's texts, their sessions, and the
access log of each look (issue 17)."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLogEntry
from tests import factories
from tests.portal.helpers import sign_in
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

PRE_CARE = "PRE-LINE-ONE stop retinoids three days before\n[sun] PRE-LINE-TWO avoid tanning"
AFTERCARE = "AFTER-LINE-ONE no make-up for a day\n\n[washing] AFTER-LINE-TWO gentle cleanser only"


@pytest.fixture
def patient():
    return factories.PatientFactory(
        first_name="Ines",
        date_of_birth=date(1988, 9, 9),
        notes="DESK-NOTE-MARK",
        other_allergies="ALLERGY-MARK",
    )


@pytest.fixture
def care_texts():
    Treatment.objects.filter(slug="mn").update(pre_care=PRE_CARE, aftercare=AFTERCARE)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_the_page_greets_the_patient_and_tells_the_plan_from_the_catalog(patient_client, patient, care_texts):
    start = timezone.localdate() + timedelta(days=10)
    plan = factories.make_accepted_plan(patient, start=start, sessions=3, interval=(14, 28, 56))
    plan.chosen["items"][0]["reason"] = "REASON-MARK"
    plan.chosen["items"][0]["option"]["flags"] = [{"text": "FLAG-MARK"}]
    plan.save(update_fields=["chosen"])
    response = patient_client.get(reverse("portal:home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hello Ines" in page
    assert Treatment.objects.get(slug="mn").name in page
    assert "3 sessions, about 4 weeks apart" in page and "cheeks" in page
    # The next visit to book: the window its booking page offers (PORTAL_FIRST_VISIT_DAYS from its day).
    assert f"Between {start:%-d %B} and {start + timedelta(days=27):%-d %B %Y}" in page
    second = start + timedelta(days=28)
    assert f"Between {second:%-d %B} and {second + timedelta(days=28):%-d %B %Y}" in page
    for line in ("PRE-LINE-ONE", "PRE-LINE-TWO avoid tanning", "AFTER-LINE-ONE", "AFTER-LINE-TWO"):
        assert line in page
    assert "[sun]" not in page and "[washing]" not in page  # the catalog's tags are not for patients
    for mark in ("REASON-MARK", "FLAG-MARK", "DESK-NOTE-MARK", "ALLERGY-MARK", patient.last_name):
        assert mark not in page
    assert "data-print" in page and "js/print.js" in page


def test_a_booked_visit_shows_its_date(patient_client, patient):
    start = timezone.localdate() + timedelta(days=3)
    plan = factories.make_accepted_plan(patient, start=start, sessions=2)
    factories.make_session(
        patient=patient, start=_at(start, 10), plan=plan, planned_session=plan.planned_sessions.first()
    )
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert "Booked: " in page and "at 10:00" in page


def test_upcoming_and_past_sessions_and_the_last_aftercare(patient_client, patient, care_texts):
    practitioner = factories.make_practitioner(factories.make_location(name="Harbour Street"))
    today = timezone.localdate()
    upcoming = factories.make_session(
        patient=patient, practitioner=practitioner, start=_at(today + timedelta(days=5), 11)
    )
    done = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(today - timedelta(days=20), 9),
        status="completed",
    )
    cancelled = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(today + timedelta(days=6), 9),
        status="cancelled",
    )
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:session", args=[upcoming.pk]) in page
    assert reverse("portal:session", args=[done.pk]) in page
    assert reverse("portal:session", args=[cancelled.pk]) not in page
    assert "Harbour Street" in page and "11:00" in page
    assert "After your last session" in page and "AFTER-LINE-ONE" in page
    assert practitioner.user.last_name not in page


def test_a_session_page_shows_its_place_areas_and_care(patient_client, patient, care_texts):
    session = factories.make_session(patient=patient, start=_at(timezone.localdate() + timedelta(days=2), 14))
    type(session.location).objects.filter(pk=session.location_id).update(address="12 Harbour Street")
    type(session).objects.filter(pk=session.pk).update(interval_override_reason="OVERRIDE-MARK")
    response = patient_client.get(reverse("portal:session", args=[session.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert session.treatment.name in page and "14:00" in page and "Cheeks" in page
    assert "12 Harbour Street" in page and "PRE-LINE-ONE" in page and "AFTER-LINE-TWO" in page
    assert "OVERRIDE-MARK" not in page
    # Cancelled, the session asks for no preparation and promises no care.
    type(session).objects.filter(pk=session.pk).update(status="cancelled")
    page = patient_client.get(reverse("portal:session", args=[session.pk])).content.decode()
    assert "Cancelled" in page and "PRE-LINE-ONE" not in page and "AFTER-LINE-TWO" not in page


def test_a_patient_without_plan_or_sessions_gets_a_plain_page(patient_client):
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert "You have no treatment plan yet." in page and "No session is booked." in page


def test_each_look_at_the_home_page_and_a_session_is_logged_with_ids_only(
    patient_client, patient, practitioner
):
    session = factories.make_session(patient=patient, practitioner=practitioner)
    patient_client.get(reverse("portal:home"), REMOTE_ADDR="10.7.7.7")
    patient_client.get(reverse("portal:session", args=[session.pk]), REMOTE_ADDR="10.7.7.7")
    other = factories.make_session(practitioner=practitioner, start=session.starts_at + timedelta(hours=2))
    patient_client.get(reverse("portal:session", args=[other.pk]))  # 404: nothing shown, nothing logged
    entries = list(AccessLogEntry.objects.order_by("pk"))
    assert [(e.kind, e.view_name, e.patient_id, e.object_id) for e in entries] == [
        ("portal", "portal:home", patient.pk, ""),
        ("portal", "portal:session", patient.pk, str(session.pk)),
    ]
    for entry in entries:
        assert entry.ip_address == "10.7.7.7"
        assert entry.user.portal_account.patient == patient
        for private in (patient.first_name, patient.last_name, patient.email, patient.phone):
            assert private not in entry.username


def test_nothing_private_reaches_the_logs(client, patient, mailoutbox, caplog, settings):
    import logging

    caplog.set_level(logging.DEBUG)
    sign_in(client, patient, mailoutbox)
    factories.make_session(patient=patient)
    client.get(reverse("portal:home"))
    client.post(reverse("portal:start"), {"contact": "unknown@example.com"})
    token = mailoutbox[0].body.split("/portal/link/")[1].split("/")[0]
    for private in (patient.first_name, patient.last_name, patient.email, token):
        assert private not in caplog.text


def test_the_session_expires_sooner_than_a_staff_session(patient_client, settings):
    assert patient_client.session.get_expiry_age() == settings.PORTAL_SESSION_SECONDS == 1800


def test_the_next_visit_has_the_dates_its_booking_page_offers(patient_client, patient):
    """Visit 1 booked later than planned: visit 2's dates on the home page follow it, as its booking
    page does (the plan's interval after visit 1 as booked), not the dates the plan was drawn with."""
    start = timezone.localdate() + timedelta(days=3)
    plan = factories.make_accepted_plan(patient, start=start, sessions=2, interval=(14, 28, 56))
    first, second = plan.planned_sessions.order_by("visit")
    booked_day = start + timedelta(days=9)
    factories.make_session(patient=patient, start=_at(booked_day, 10), plan=plan, planned_session=first)
    page = patient_client.get(reverse("portal:home")).content.decode()
    low, high = booked_day + timedelta(days=14), booked_day + timedelta(days=56)
    assert f"Between {low:%-d %B} and {high:%-d %B %Y}" in page
    booking = patient_client.get(reverse("portal:visit_book", args=[second.pk])).content.decode()
    assert (
        f"{low:%a} {low.day} {low:%b}" in booking and f"{high:%a} {high.day} {high:%b} {high.year}" in booking
    )


def test_every_portal_page_gives_the_clinics_phone_number_and_the_session_its_own(patient_client, patient):
    """The portal asks patients to call the clinic when it cannot help online: it gives the number."""
    session = factories.make_session(patient=patient, start=_at(timezone.localdate() + timedelta(days=2), 14))
    location = session.location
    location.phone = "+1 212 555 0199"
    location.save(update_fields=["phone"])
    type(location).objects.create(name="Closed branch", phone="+1 212 555 0000", active=False)
    for url in (reverse("portal:home"), reverse("portal:session", args=[session.pk])):
        page = patient_client.get(url).content.decode()
        footer = page[page.index('data-testid="clinic-phones"') :]
        assert f'{location.name} <a href="tel:+12125550199">+1 212 555 0199</a>' in footer
        assert "Closed branch" not in page
    detail = patient_client.get(reverse("portal:session", args=[session.pk])).content.decode()
    assert detail.count('href="tel:+12125550199"') == 2  # under the place, and in the footer


def test_no_footer_without_a_number(patient_client):
    assert 'data-testid="clinic-phones"' not in patient_client.get(reverse("portal:home")).content.decode()
