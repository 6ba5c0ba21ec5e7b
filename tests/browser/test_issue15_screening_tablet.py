"""The day-of screening on a tablet: a tap on a question's text answers its row, the No/Yes heads
stay in view down the checklist, and a chosen "yes" stands out (and a stray tap on its text does
not undo it)."""

from datetime import datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from treatments.selectors.availability import clinic_zone

pytestmark = pytest.mark.django_db(transaction=True)


def shade(locator):
    """The colour a table cell is painted with (Bootstrap paints cells with an inset shadow)."""
    return locator.evaluate("cell => getComputedStyle(cell).boxShadow")


def test_tap_the_question_sticky_heads_and_a_yes_that_stands_out(page, login, screenshot):
    doctor_user = factories.clinician(first_name="Tab", last_name="Let")
    doctor = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=doctor_user)
    patient = factories.PatientFactory(first_name="Sam", last_name="Screened")
    session = factories.make_session(
        patient=patient,
        practitioner=doctor,
        treatment_slug="mn_prp",
        area_slugs=("cheeks", "forehead"),
        start=datetime.combine(timezone.localdate(), time(23), tzinfo=clinic_zone()),
    )
    login(doctor_user.username)
    page.set_viewport_size({"width": 768, "height": 600})  # a tablet held upright, the keyboard shown
    page.goto(reverse("treatments:session_record", args=[session.pk]))
    rows = page.locator("table.screening-table tbody tr.screening-question")
    assert rows.count() >= 3

    # A tap on the text of a question answers it "No", a 44px target like the answer cells.
    first = rows.nth(0)
    text = first.locator("label.screening-label")
    box = text.bounding_box()
    assert box["height"] >= 44
    for cell in first.locator("label.screening-choice").all():
        cell_box = cell.bounding_box()
        assert cell_box["height"] >= 44 and cell_box["width"] >= 44
    text.click()
    expect(first.locator("input[value=no]")).to_be_checked()

    # A "yes" colours its row and its cell; the "no" rows stay plain.
    second = rows.nth(1)
    plain_row = shade(rows.nth(2).locator("th"))
    second.locator("td.screening-yes label").click()
    expect(second.locator("input[value=yes]")).to_be_checked()
    assert shade(second.locator("th")) != plain_row
    assert shade(second.locator("td.screening-yes")) not in (plain_row, shade(second.locator("th")))
    assert shade(first.locator("th")) == plain_row  # answered "no"
    screenshot(page, "desk-04-tablet-screening")
    # A stray tap on its text does not turn the "yes" back into a "no".
    second.locator("label.screening-label").click(force=True)
    expect(second.locator("input[value=yes]")).to_be_checked()
    second.locator("td.screening-no label").click()  # only "No" itself does
    expect(second.locator("input[value=no]")).to_be_checked()
    page.mouse.move(0, 0)  # off the row: no hover shade
    assert shade(second.locator("th")) == plain_row

    # Down the checklist the No/Yes heads stay at the top of the screen.
    heads = page.locator("table.screening-table thead th")
    table = page.locator("table.screening-table")
    page.evaluate("by => window.scrollBy(0, by)", table.bounding_box()["y"] + 120)
    assert table.bounding_box()["y"] < -100  # its top scrolled away, its rows still in view
    head = heads.nth(1).bounding_box()
    assert -1 <= head["y"] <= 1 and head["height"] > 0
    expect(heads.nth(1)).to_be_in_viewport()
