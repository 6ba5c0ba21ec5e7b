from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from treatments.models import Appointment, WaitlistEntry
from treatments.services import booking

pytestmark = pytest.mark.django_db(transaction=True)
NY = ZoneInfo("America/New_York")


def test_a_cancelled_session_is_offered_to_a_waiting_patient_and_booked_in_one_click(page, login, screenshot):
    location = factories.make_location(open_days=range(7), rooms=2)
    doctor = factories.make_practitioner(location, days=range(7))
    desk = factories.front_desk()
    day = timezone.localdate() + timedelta(days=2)
    leaving = booking.session_book(
        request=booking.BookingRequest(
            patient=PatientFactory(first_name="Carl", last_name="Cancels"),
            treatment=factories.treatment("mn"),
            areas=factories.areas("cheeks"),
            practitioner=doctor,
            start=datetime.combine(day, time(10), tzinfo=NY),
        ),
        by=desk,
    )
    waiting = PatientFactory(first_name="Wendy", last_name="Waiting")
    plan = make_accepted_plan(waiting, start=day, sessions=2)

    login(desk.username)
    # The desk puts Wendy's first visit on the waitlist from her page.
    page.goto(f"/patients/{waiting.pk}/")
    page.get_by_role("link", name="Add to waitlist").click()
    page.get_by_label("Plan visit").select_option(index=1)
    page.get_by_role("button", name="Add to the waitlist").click()
    expect(page.get_by_text("Wendy Waiting is on the waitlist.")).to_be_visible()

    # Carl cancels: his panel offers the freed time to Wendy.
    page.goto(f"/schedule/?date={day.isoformat()}")
    page.locator("td.calendar-session", has_text="Carl Cancels").locator("a").click()
    panel = page.locator("#session-panel")
    panel.get_by_text("Cancel", exact=True).click()
    panel.get_by_label("Reason for cancelling").fill("Patient called: away that week")
    panel.get_by_role("button", name="Cancel session").click()
    offers = panel.get_by_role("region", name="Waiting patients for this time")
    expect(offers).to_contain_text("Wendy Waiting")
    screenshot(page, "desk-03-waitlist-offer")

    offers.get_by_role("button", name="Book 10:00").click()
    expect(page.get_by_text("Booked Wendy Waiting from the waitlist.")).to_be_visible()
    booked = Appointment.objects.get(patient=waiting)
    assert booked.starts_at == leaving.starts_at and booked.planned_session.plan == plan
    assert WaitlistEntry.objects.get(patient=waiting).status == WaitlistEntry.Status.BOOKED
