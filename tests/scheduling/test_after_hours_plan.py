"""A plan's visit whose window has no opening hours left (a plan accepted after closing, a window
of closed days) starts on the next open day; a proposal that stops short says what to book next,
and never points at rows that are not there."""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from tests.scheduling.helpers import at, book
from treatments.models import Appointment, Closure, PlannedSession
from treatments.services import booking

pytestmark = pytest.mark.django_db
# In the past: a stopped clock then never outruns a login made at the real time.
MONDAY = date(2026, 1, 5)
FRIDAY = MONDAY + timedelta(days=4)


@pytest.fixture
def location():
    return factories.make_location(open_days=range(6), opens=9, closes=18)  # Monday to Saturday


@pytest.fixture
def doctor(location):
    return factories.make_practitioner(location, days=range(5), starts=9, ends=17)  # weekdays


def days(proposal):
    return [slot.local_day for _, slot in proposal]


def test_a_plan_accepted_after_closing_starts_the_next_morning(doctor):
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=3)
    proposal, problem = booking.propose_plan(plan, not_before=at(MONDAY, 20))
    assert problem is None
    assert [session.visit for session, _ in proposal] == [1, 2, 3]
    assert proposal[0][1].start == at(MONDAY + timedelta(days=1), 9)
    gaps = [(later - earlier).days for earlier, later in pairwise(days(proposal))]
    assert all(14 <= gap <= 56 for gap in gaps)


def test_after_closing_on_friday_visit_one_waits_for_a_day_someone_works(doctor):
    # The clinic opens on Saturday, but nobody who does microneedling works then.
    plan = make_accepted_plan(PatientFactory(), start=FRIDAY, sessions=2)
    proposal, problem = booking.propose_plan(plan, not_before=at(FRIDAY, 20))
    assert problem is None
    assert proposal[0][1].start == at(FRIDAY + timedelta(days=3), 9)


def test_with_too_little_time_before_closing_the_next_day_is_proposed(doctor):
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=1)
    proposal, problem = booking.propose_plan(plan, not_before=at(MONDAY, 16))  # 75 minutes needed
    assert problem is None
    assert days(proposal) == [MONDAY + timedelta(days=1)]


def test_a_window_of_closed_days_moves_past_the_closure(location, doctor):
    Closure.objects.create(location=location, first_day=MONDAY, last_day=MONDAY + timedelta(days=1))
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=1)
    proposal, problem = booking.propose_plan(plan, not_before=at(MONDAY, 8))
    assert problem is None
    assert days(proposal) == [MONDAY + timedelta(days=2)]


def test_a_window_with_hours_left_is_kept(doctor):
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=1)
    proposal, _ = booking.propose_plan(plan, not_before=at(MONDAY, 14, 5))
    assert proposal[0][1].start == at(MONDAY, 14, 15)


def test_a_full_day_is_named_not_skipped(location):
    short = factories.make_practitioner(location, days=range(5), starts=9, ends=11)  # room for one
    book(short, at(MONDAY, 9))
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=2)
    found = booking.plan_proposal(plan, not_before=at(MONDAY, 8))
    assert found.placed == []
    assert found.problem.startswith(
        "No free slot for visit 1 (Microneedling) between 2026-01-05 and 2026-01-05"
    )
    assert found.unplaced == PlannedSession.objects.get(plan=plan, visit=1)


def test_a_visit_nobody_can_do_is_the_one_the_problem_names(location):
    factories.make_practitioner(location, days=range(5), treatments=["mn"])
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=1)
    scalp = PlannedSession.objects.create(
        plan=plan,
        visit=2,
        treatment=factories.treatment("prp_scalp"),
        session=1,
        earliest=MONDAY + timedelta(days=7),
        latest=MONDAY + timedelta(days=14),
    )
    scalp.areas.set(factories.areas("scalp"))
    found = booking.plan_proposal(plan, not_before=at(MONDAY, 8))
    assert [session.visit for session, _ in found.placed] == [1]
    assert found.unplaced == scalp
    assert found.problem.startswith("No free slot for visit 2 (PRP")


# The page: what the desk sees when booking a plan accepted after hours.


def test_the_desk_books_a_plan_accepted_after_closing_whole(front_desk_client, doctor, clock):
    clock(at(MONDAY, 20))
    patient = PatientFactory()
    plan = make_accepted_plan(patient, start=MONDAY, sessions=3)
    url = reverse("treatments:plan_book", args=[plan.pk])
    page = front_desk_client.get(url)
    assert page.status_code == 200
    assert page.context["problem"] is None and "No free slot" not in page.content.decode()
    rows = page.context["rows"]
    assert len(rows) == 3 and rows[0]["slot"].start == at(MONDAY + timedelta(days=1), 9)
    data = {"proposal-TOTAL_FORMS": 3, "proposal-INITIAL_FORMS": 3}
    for n, row in enumerate(rows):
        for field in row["form"]:
            data[f"proposal-{n}-{field.name}"] = "" if field.value() is None else field.value()
    response = front_desk_client.post(url, data)
    assert response.status_code == 302
    starts = list(
        Appointment.objects.filter(plan=plan).order_by("starts_at").values_list("starts_at", flat=True)
    )
    assert len(starts) == 3 and starts[0] == at(MONDAY + timedelta(days=1), 9)


def test_with_nothing_proposed_the_page_asks_to_book_visit_one_alone(front_desk_client, doctor, clock):
    clock(at(MONDAY, 8))
    doctor.working_hours.all().delete()
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=2)
    page = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk]))
    html = page.content.decode()
    assert page.context["rows"] == []
    assert "No free slot for visit 1" in html and "below" not in html
    assert "Book visit 1 on its own" in html
    first = PlannedSession.objects.get(plan=plan, visit=1)
    assert f"planned_session={first.pk}" in html
    assert "Every session of this plan is booked" not in html


def test_a_partial_proposal_names_the_rows_it_shows(front_desk_client, location, clock):
    clock(at(MONDAY, 8))
    factories.make_practitioner(location, days=range(5), treatments=["mn"])
    plan = make_accepted_plan(PatientFactory(), start=MONDAY, sessions=1)
    scalp = PlannedSession.objects.create(
        plan=plan,
        visit=2,
        treatment=factories.treatment("prp_scalp"),
        session=1,
        earliest=MONDAY + timedelta(days=7),
        latest=MONDAY + timedelta(days=14),
    )
    scalp.areas.set(factories.areas("scalp"))
    page = front_desk_client.get(reverse("treatments:plan_book", args=[plan.pk]))
    html = page.content.decode()
    assert len(page.context["rows"]) == 1
    assert "Book the session below, then visit 2 on its own" in html
    assert f"planned_session={scalp.pk}" in html
    assert "Book all 1 sessions" in html
