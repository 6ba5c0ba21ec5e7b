"""Day grid journeys in Chromium: closed cells look closed and take no drop, a session's clean-up
is marked under it, and by room a session dragged to another room's column moves there (or is
refused in the panel, left where it was)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment, Room
from treatments.services import booking

pytestmark = pytest.mark.django_db(transaction=True)
NY = ZoneInfo("America/New_York")


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


@pytest.fixture
def clinic():
    """Open 9 to 18 every day; the practitioner works 10 to 17."""
    location = factories.make_location(open_days=range(7), rooms=2)
    return location, factories.make_practitioner(location, days=range(7), starts=10)


def book(doctor, start, patient, room=None):
    return booking.session_book(
        request=booking.BookingRequest(
            patient=patient,
            treatment=factories.treatment("mn"),
            areas=factories.areas("cheeks"),
            practitioner=doctor,
            start=start,
            room=room,
        ),
        by=factories.front_desk(),
    )


def grid_of(page, day, by=""):
    page.goto(f"/schedule/?date={day.isoformat()}{'&by=room' if by else ''}")
    return page.get_by_role("table", name=f"Sessions on {day:%B} {day.day}")


def test_closed_cells_look_closed_and_take_no_drop_and_the_clean_up_is_marked(page, login, clinic):
    _, doctor = clinic
    desk = factories.front_desk()
    day = timezone.localdate() + timedelta(days=2)
    session = book(doctor, at(day, 11), PatientFactory(first_name="Nell", last_name="Nomove"))
    login(desk.username)
    grid = grid_of(page, day)

    # 9:00 is before the practitioner's hours: hatched, named closed, no booking link
    closed = grid.locator("tr", has=page.locator("th", has_text="09:00")).locator("td.calendar-closed")
    expect(closed).to_have_count(1)
    expect(closed).to_contain_text("09:00 closed")
    expect(closed.get_by_role("link")).to_have_count(0)
    assert "repeating-linear-gradient" in closed.evaluate("cell => getComputedStyle(cell).backgroundImage")
    free = grid.locator(f'td.calendar-free[data-time="10:00"][data-practitioner="{doctor.pk}"]')
    expect(free.get_by_role("link", name=f"Book 10:00 with {doctor}")).to_have_count(1)
    assert "gradient" not in free.evaluate("cell => getComputedStyle(cell).backgroundImage")

    # the session's hour, then its clean-up marked apart under it
    mine = grid.locator("td.calendar-session", has_text="Nell Nomove")
    cleanup = grid.locator(f'td.calendar-cleanup[data-cleanup-of="{session.pk}"]')
    expect(cleanup).to_be_visible()
    expect(cleanup).to_have_text("Clean-up until 12:15")
    assert mine.get_attribute("rowspan") == "4"
    session_box, cleanup_box = mine.bounding_box(), cleanup.bounding_box()
    assert abs(session_box["y"] + session_box["height"] - cleanup_box["y"]) < 2

    # dropped on a closed cell, nothing is asked of the server and nothing moves
    panel = page.locator("#session-panel")
    requests = []
    page.on("request", lambda request: requests.append(request.url) if request.method == "POST" else None)
    mine.drag_to(closed)
    page.wait_for_timeout(300)
    assert requests == []
    expect(panel).not_to_contain_text("Session moved to")
    session.refresh_from_db()
    assert session.starts_at == at(day, 11)


def test_by_room_a_session_dragged_to_another_room_moves_there_or_is_refused(page, login, clinic):
    location, doctor = clinic
    first, second = Room.objects.filter(location=location).order_by("name")
    other = factories.make_practitioner(location, days=range(7))
    desk = factories.front_desk()
    day = timezone.localdate() + timedelta(days=2)
    session = book(doctor, at(day, 10), PatientFactory(first_name="Rory", last_name="Rooms"), room=first)
    book(other, at(day, 13), PatientFactory(first_name="Olga", last_name="Other"), room=first)

    login(desk.username)
    grid = grid_of(page, day, by="room")
    panel = page.locator("#session-panel")
    mine = grid.locator("td.calendar-session", has_text="Rory Rooms")

    def free(room, hhmm):
        return grid.locator(f'td.calendar-free[data-time="{hhmm}"][data-room="{room.pk}"]')

    mine.drag_to(free(second, "11:00"))
    expect(panel).to_contain_text("Session moved to")
    expect(panel).to_contain_text(second.name)
    session.refresh_from_db()
    assert session.room_id == second.pk and session.starts_at == at(day, 11)
    assert session.practitioner_id == doctor.pk
    # the refreshed grid shows it in the second room's column, the first room free again
    expect(mine).to_contain_text("11:00")
    expect(free(second, "11:00")).to_have_count(0)
    expect(free(first, "10:00")).to_have_count(1)

    # back to the first room at 12:30 runs into Olga's 13:00 there: refused, left where it was
    mine.drag_to(free(first, "12:30"))
    expect(panel).to_contain_text("The room is already booked at that time.")
    expect(panel.locator("details[open]")).to_contain_text("Move")
    session.refresh_from_db()
    assert session.room_id == second.pk and session.starts_at == at(day, 11)
    expect(mine).to_contain_text("11:00")
    page.reload()
    moved = Appointment.objects.get(pk=session.pk)
    assert moved.room_id == second.pk
