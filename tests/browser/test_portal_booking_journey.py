"""A patient on a phone books the next visit of the plan inside its window, and a day outside it
is refused with the window (issue 17)."""

import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from treatments.models import Appointment

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _label(day: date, *, year: bool = True) -> str:
    text = f"{day:%a} {day.day} {day:%b}"
    return f"{text} {day.year}" if year else text


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_patient_books_the_next_visit_inside_its_window_and_is_refused_outside_it(
    browser, live_server, catalog, mailoutbox, screenshot
):
    cache.clear()
    patient = factories.PatientFactory(
        first_name="Noor", email="noor.haddad@example.com", date_of_birth=date(1991, 7, 21)
    )
    practitioner = factories.make_practitioner(factories.make_location(name="Harbour Street"))
    start = timezone.localdate() + timedelta(days=7)
    plan = factories.make_accepted_plan(patient, start=start, sessions=2, interval=(14, 28, 56))

    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )

    page.goto("/portal/")
    page.get_by_label("Your e-mail address or mobile phone number").fill("noor.haddad@example.com")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_test_id("portal-sent")).to_be_visible()
    page.goto(re.search(r"/portal/link/[A-Za-z0-9_\-]+/", mailoutbox[0].body).group(0))
    page.get_by_label("Your date of birth").fill("1991-07-21")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Hello Noor")).to_be_visible()

    page.get_by_role("link", name="Book").click()
    expect(page.get_by_role("heading", name="Book visit 1")).to_be_visible()
    # The first session of the series: from its planned day for PORTAL_FIRST_VISIT_DAYS (28).
    end = start + timedelta(days=27)
    expect(page.get_by_test_id("visit-window")).to_have_text(
        f"Visit 1 can be booked between {_label(start, year=start.year != end.year)} and {_label(end)}."
    )
    screenshot(page, "booking-01-visit-1-times")
    assert _no_horizontal_scroll(page)
    page.get_by_role("button", name="10:00").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Visit 1 is booked: {_label(start)} at 10:00.")
    screenshot(page, "booking-02-visit-1-booked")
    assert page.url.endswith("/portal/home/")
    session = Appointment.objects.get(planned_session__plan=plan, planned_session__visit=1)
    assert session.booked_by.portal_account.patient == patient and session.practitioner == practitioner
    expect(
        page.get_by_role("region", name="Your next sessions").get_by_role("link", name="Change time")
    ).to_be_visible()

    # Visit 2: the plan's interval (14 to 56 days) after the first, as booked.
    first, last = start + timedelta(days=14), start + timedelta(days=56)
    window = (
        f"Visit 2 can be booked between {_label(first, year=first.year != last.year)} and {_label(last)}."
    )
    page.get_by_role("link", name="Book").click()
    expect(page.get_by_role("heading", name="Book visit 2")).to_be_visible()
    expect(page.get_by_test_id("visit-window")).to_have_text(window)
    book_url = page.url.split("?")[0]

    outside = last + timedelta(days=2)
    page.goto(f"{book_url}?day={outside.isoformat()}")
    expect(page.get_by_test_id("booking-problem")).to_have_text(
        f"{_label(outside)} is outside this visit's dates. {window}"
    )
    expect(page.get_by_role("button", name="10:00")).to_have_count(0)
    screenshot(page, "booking-03-outside-window-refused")
    assert _no_horizontal_scroll(page)

    # The day picker only offers the window; a day inside it shows its free times.
    day = page.get_by_label("Day")
    assert day.get_attribute("min") == first.isoformat() and day.get_attribute("max") == last.isoformat()
    inside = first + timedelta(days=3)
    day.fill(inside.isoformat())
    page.get_by_role("button", name="Show times").click()
    expect(page.get_by_role("heading", name=re.compile("Free times on"))).to_be_visible()
    screenshot(page, "booking-04-visit-2-inside-window")
    page.get_by_role("button", name="11:00").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Visit 2 is booked: {_label(inside)} at 11:00.")
    screenshot(page, "booking-05-visit-2-booked")
    assert Appointment.objects.filter(planned_session__plan=plan).count() == 2
    assert not errors, errors
    context.close()
