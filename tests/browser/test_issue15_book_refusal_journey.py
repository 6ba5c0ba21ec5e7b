"""The booking page at a desk's screen (1280 x 900): a refused booking keeps what was typed, the
time from included, and shows the next free times right under its reason, without scrolling; a
time outside the opening hours too."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment, OpeningHours

pytestmark = pytest.mark.django_db(transaction=True)
NY = ZoneInfo("America/New_York")


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def above_the_fold(locator, height=900):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_refused_bookings_keep_the_typing_and_offer_the_next_times_in_view(page, login):
    location = factories.make_location(open_days=range(7), rooms=2)
    doctor = factories.make_practitioner(location, days=range(7))
    desk = factories.front_desk()
    patient = PatientFactory(first_name="Bea", last_name="Booked")
    day = timezone.localdate() + timedelta(days=2)
    page.set_viewport_size({"width": 1280, "height": 900})

    login(desk.username)
    page.goto(f"/schedule/book/?patient={patient.pk}")
    page.get_by_label("Treatment").select_option("mn")
    page.get_by_label("Areas").select_option(["cheeks"])
    page.get_by_label("Practitioner").select_option(str(doctor.pk))
    page.locator("#id_day").fill(day.isoformat())
    page.get_by_label("From time").fill("11:00")
    page.get_by_role("button", name="Find free times").click()
    eleven = page.get_by_role("button", name=f"Book {day:%a %b} {day.day} 11:00 with {doctor}", exact=True)
    expect(eleven).to_be_visible()

    # another desk takes 11:00 meanwhile
    factories.make_session(practitioner=doctor, start=at(day, 11))
    eleven.click()
    refusal = page.get_by_role("alert", name="Not booked")
    expect(refusal).to_contain_text("The practitioner is already booked at that time.")
    offered = refusal.get_by_role("list", name="Next free times").get_by_role("button")
    expect(offered.first).to_have_accessible_name(f"Book {day:%a %b} {day.day} 12:15 with {doctor} instead")
    assert page.evaluate("window.scrollY") == 0
    assert above_the_fold(refusal) and above_the_fold(offered.first)
    expect(page.get_by_label("From time")).to_have_value("11:00")
    expect(page.locator("#id_day")).to_have_value(day.isoformat())
    expect(page.get_by_label("Practitioner")).to_have_value(str(doctor.pk))
    expect(page.get_by_label("Treatment")).to_have_value("mn")

    # the clinic now closes at 13 that day: 12:30, still listed, is outside its hours
    OpeningHours.objects.filter(location=location, weekday=day.weekday()).update(ends=time(13))
    page.get_by_role("button", name=f"Book {day:%a %b} {day.day} 12:30 with {doctor}", exact=True).click()
    refusal = page.get_by_role("alert", name="Not booked")
    expect(refusal).to_contain_text("outside the clinic's opening hours")
    offered = refusal.get_by_role("list", name="Next free times").get_by_role("button")
    # from that day on: its morning is free
    expect(offered.first).to_have_accessible_name(f"Book {day:%a %b} {day.day} 09:00 with {doctor} instead")
    assert above_the_fold(offered.first)
    expect(page.get_by_label("From time")).to_have_value("11:00")

    offered.first.click()
    expect(page.get_by_text("Booked Microneedling for Bea Booked")).to_be_visible()
    assert Appointment.objects.get(patient=patient).starts_at == at(day, 9)
