from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from treatments.models import Appointment

pytestmark = pytest.mark.django_db(transaction=True)


def test_front_desk_books_a_plan_moves_one_session_and_cancels_another(page, login):
    location = factories.make_location(open_days=range(7), rooms=2)
    factories.make_practitioner(location, days=range(7))
    desk = factories.front_desk()
    patient = PatientFactory(first_name="Bea", last_name="Booker")
    today = timezone.localdate()
    make_accepted_plan(patient, sessions=3, start=today + timedelta(days=1))

    login(desk.username)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Book its sessions").click()
    rows = page.get_by_role("table", name="Proposed sessions").locator("tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Book all 3 sessions").click()
    expect(page.get_by_text("Booked 3 sessions for Bea Booker.")).to_be_visible()

    first, second, _ = Appointment.objects.filter(patient=patient).order_by("starts_at")
    first_day = timezone.localtime(first.starts_at).date()
    page.goto(f"/sessions/{first.pk}/")
    page.get_by_text("Move", exact=True).click()
    page.get_by_label("Time").fill("15:00")
    page.get_by_role("button", name="Move session").click()
    expect(page.get_by_text("Session moved to")).to_be_visible()

    page.goto(f"/sessions/{second.pk}/")
    page.get_by_text("Cancel", exact=True).click()
    page.get_by_label("Reason for cancelling").fill("Patient travelling")
    page.get_by_role("button", name="Cancel session").click()
    expect(page.get_by_text("Session cancelled.")).to_be_visible()

    page.goto(f"/schedule/?date={first_day.isoformat()}")
    calendar = page.get_by_role("table", name=f"Sessions on {first_day:%B} {first_day.day}")
    session_cell = calendar.locator("td.calendar-session", has_text="Bea Booker")
    expect(session_cell).to_contain_text("15:00")

    second_day = timezone.localtime(second.starts_at).date()
    page.goto(f"/schedule/?date={second_day.isoformat()}")
    expect(page.locator("li", has_text="Bea Booker").filter(has_text="Cancelled")).to_be_visible()

    page.goto(f"/schedule/?date={first_day.isoformat()}")
    session_cell.locator("a").click()
    panel = page.locator("#session-panel")
    expect(panel).to_contain_text("Bea Booker")
    panel.get_by_role("button", name="Check in").click()
    expect(panel).to_contain_text("Checked in")
