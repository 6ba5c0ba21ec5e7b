"""Day calendar journeys in Chromium: book from an empty cell, drag a session to move it, and a
refused drag that leaves the session where it was with the reason in the side panel."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment
from treatments.services import booking

pytestmark = pytest.mark.django_db(transaction=True)
NY = ZoneInfo("America/New_York")


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


@pytest.fixture
def clinic():
    """Open 9 to 18 every day; the practitioner works 9 to 17."""
    location = factories.make_location(open_days=range(7), rooms=2)
    return location, factories.make_practitioner(location, days=range(7))


def book(doctor, start, patient, by=None):
    return booking.session_book(
        request=booking.BookingRequest(
            patient=patient,
            treatment=factories.treatment("mn"),
            areas=factories.areas("cheeks"),
            practitioner=doctor,
            start=start,
        ),
        by=by or factories.front_desk(),
    )


def calendar(page, day):
    page.goto(f"/schedule/?date={day.isoformat()}")
    return page.get_by_role("table", name=f"Sessions on {day:%B} {day.day}")


def free_cell(grid, doctor, hhmm):
    return grid.locator(f'td.calendar-free[data-time="{hhmm}"][data-practitioner="{doctor.pk}"]')


def test_book_from_an_empty_cell(page, login, clinic, screenshot):
    _, doctor = clinic
    desk = factories.front_desk()
    patient = PatientFactory(first_name="Cora", last_name="Cellbook")
    day = timezone.localdate() + timedelta(days=2)

    login(desk.username)
    grid = calendar(page, day)
    grid.get_by_role("link", name=f"Book 11:00 with {doctor}").click()
    expect(page.get_by_role("heading", name="Book a session: choose the patient")).to_be_visible()
    page.get_by_label("Patient's name").fill("Cellbook")
    page.get_by_role("button", name="Find").click()
    assert "Cellbook" not in page.url
    page.get_by_role("link", name="Cellbook, Cora").click()

    expect(page.get_by_label("From time")).to_have_value("11:00")
    expect(page.locator("#id_day")).to_have_value(day.isoformat())
    expect(page.get_by_label("Practitioner")).to_have_value(str(doctor.pk))
    page.get_by_label("Treatment").select_option("mn")
    page.get_by_label("Areas").select_option(["cheeks"])
    page.get_by_role("button", name="Find free times").click()
    page.get_by_role("button", name=f"Book {day:%a %b} {day.day} 11:00 with {doctor}").click()

    expect(page.get_by_text("Booked")).to_be_visible()
    session = Appointment.objects.get(patient=patient)
    assert session.starts_at == at(day, 11) and session.practitioner_id == doctor.pk
    cell = page.locator("td.calendar-session", has_text="Cora Cellbook")
    expect(cell).to_contain_text("11:00")
    screenshot(page, "desk-01-day-view")


def test_drag_a_session_to_a_free_time_then_to_a_closed_one(page, login, clinic):
    _, doctor = clinic
    desk = factories.front_desk()
    patient = PatientFactory(first_name="Dora", last_name="Dragged")
    day = timezone.localdate() + timedelta(days=2)
    session = book(doctor, at(day, 10), patient, desk)

    login(desk.username)
    grid = calendar(page, day)
    panel = page.locator("#session-panel")
    mine = grid.locator("td.calendar-session", has_text="Dora Dragged")
    expect(mine).to_contain_text("10:00")

    mine.drag_to(free_cell(grid, doctor, "14:00"))
    expect(panel).to_contain_text("Session moved to")
    expect(mine).to_contain_text("14:00")  # the grid was refreshed
    session.refresh_from_db()
    assert session.starts_at == at(day, 14)

    # 17:00 is past the practitioner's hours: a closed cell, no drop target (test_issue15_*)
    expect(free_cell(grid, doctor, "17:00")).to_have_count(0)
    # 16:45 is open, but its hour and clean-up run past them: refused, and nothing moves
    mine.drag_to(free_cell(grid, doctor, "16:45"))
    expect(panel).to_contain_text(f"{doctor} does not work at that time.")
    expect(panel).not_to_contain_text("Session moved to")
    expect(panel.locator("details[open]")).to_contain_text("Move")
    session.refresh_from_db()
    assert session.starts_at == at(day, 14)
    expect(mine).to_contain_text("14:00")
    page.reload()
    expect(grid.locator("td.calendar-session", has_text="Dora Dragged")).to_contain_text("14:00")

    # onto a time that runs into another patient's session: refused, with the reason
    book(doctor, at(day, 12, 30), PatientFactory(first_name="Olga", last_name="Other"))
    page.reload()
    mine.drag_to(free_cell(grid, doctor, "12:00"))
    expect(panel).to_contain_text("The practitioner is already booked at that time.")
    session.refresh_from_db()
    assert session.starts_at == at(day, 14)
    expect(mine).to_contain_text("14:00")

    # the panel's own actions (here a free time it offers) refresh the grid too
    panel.get_by_role("button", name=f"Move to {day:%a %b} {day.day} 13:45 with {doctor}").click()
    expect(panel).to_contain_text("Session moved to")
    expect(mine).to_contain_text("13:45")
    session.refresh_from_db()
    assert session.starts_at == at(day, 13, 45)


def test_a_focused_session_opens_its_panel_from_the_keyboard(page, login, clinic):
    _, doctor = clinic
    desk = factories.front_desk()
    day = timezone.localdate() + timedelta(days=2)
    book(doctor, at(day, 10), PatientFactory(first_name="Kay", last_name="Board"), desk)
    login(desk.username)
    grid = calendar(page, day)
    grid.locator("td.calendar-session a", has_text="Kay Board").focus()
    page.keyboard.press("Enter")
    panel = page.locator("#session-panel")
    expect(panel).to_contain_text("Kay Board")
    expect(panel.get_by_text("Move", exact=True)).to_be_visible()
    # the empty cells are reachable by Tab too: a focused one books with Enter
    free_cell(grid, doctor, "12:00").get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Book a session: choose the patient")).to_be_visible()
