import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from treatments.models import Appointment
from treatments.services import booking

pytestmark = pytest.mark.django_db(transaction=True)
NY = ZoneInfo("America/New_York")


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def book(doctor, start, patient):
    return booking.session_book(
        request=booking.BookingRequest(
            patient=patient,
            treatment=factories.treatment("mn"),
            areas=factories.areas("cheeks"),
            practitioner=doctor,
            start=start,
        ),
        by=factories.front_desk(),
    )


def test_refused_panel_actions_say_why_in_the_panel(page, login, screenshot):
    location = factories.make_location(open_days=range(7), rooms=2)
    doctor = factories.make_practitioner(location, days=range(7))
    desk = factories.front_desk()
    day = timezone.localdate() + timedelta(days=1)
    book(doctor, at(day, 10), PatientFactory(first_name="Tom", last_name="Taken"))
    session = book(doctor, at(day, 14), PatientFactory(first_name="Rae", last_name="Refused"))

    login(desk.username)
    page.goto(f"/schedule/?date={day.isoformat()}")
    page.locator("td.calendar-session", has_text="Rae Refused").locator("a").click()
    panel = page.locator("#session-panel")
    expect(panel).to_contain_text("Rae Refused")

    panel.get_by_text("Move", exact=True).click()
    panel.get_by_label("Time").fill("10:30")
    panel.get_by_role("button", name="Move session").click()
    expect(panel).to_contain_text("The practitioner is already booked at that time.")
    free_times = panel.get_by_role("list", name="Free times for this session")
    expect(free_times.get_by_role("button").first).to_be_visible()
    screenshot(page, "desk-02-panel-refusal")
    expect(page).to_have_url(re.compile(r"/schedule/\?date="))  # still on the calendar

    free_times.get_by_role("button").first.click()
    expect(panel).to_contain_text("Session moved to")
    moved = Appointment.objects.get(pk=session.pk)
    assert moved.starts_at != at(day, 14)

    # Another desk cancels the session while this panel still offers to check it in.
    booking.session_cancel(appointment=moved, reason="Flu", by=factories.front_desk())
    panel.get_by_role("button", name="Check in").click()
    refusal = panel.get_by_role("alert", name="Not done")
    expect(refusal).to_contain_text("A cancelled session cannot become checked in.")
    expect(panel).to_contain_text("Cancelled")
    assert Appointment.objects.get(pk=session.pk).status == "cancelled"


def test_a_plan_accepted_after_closing_is_booked_whole(page, login, monkeypatch, settings):
    monday = date(2026, 1, 5)  # in the past: the stopped clock never outruns the login
    after_closing = at(monday, 20)
    monkeypatch.setattr(timezone, "now", lambda: after_closing)
    settings.SESSION_COOKIE_AGE = 400 * 24 * 3600
    location = factories.make_location(open_days=range(6), opens=9, closes=18)
    factories.make_practitioner(location, days=range(5), starts=9, ends=17)
    desk = factories.front_desk()
    patient = PatientFactory(first_name="Lee", last_name="Late")
    make_accepted_plan(patient, sessions=3, start=monday)

    login(desk.username)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Book its sessions").click()
    rows = page.get_by_role("table", name="Proposed sessions").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Tue Jan 6, 2026 09:00")
    expect(page.get_by_text("No free slot")).to_have_count(0)
    page.get_by_role("button", name="Book all 3 sessions").click()
    expect(page.get_by_text("Booked 3 sessions for Lee Late.")).to_be_visible()
    first = Appointment.objects.filter(patient=patient).order_by("starts_at").first()
    assert first.starts_at == at(monday + timedelta(days=1), 9)
