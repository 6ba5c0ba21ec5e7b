"""The patient books, moves and cancels the visits of their plan online, inside each visit's
window, through the same booking service as the front desk (issue 17)."""

from datetime import date, datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLogEntry
from clinic.portal_pages import window_sentence
from patients.models import PortalAccount
from tests import factories
from treatments.models import Appointment, Closure, WaitlistEntry
from treatments.selectors.portal_booking import VisitWindow, visit_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return factories.PatientFactory(first_name="Maren", date_of_birth=date(1990, 2, 3))


@pytest.fixture
def start():
    return timezone.localdate() + timedelta(days=10)


@pytest.fixture
def plan(patient, start, practitioner):
    # Visit 1 on `start`; visit 2 between start + 28 and start + 56; at least 14 days apart.
    return factories.make_accepted_plan(patient, start=start, sessions=3, interval=(14, 28, 56))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _slot(moment: datetime, practitioner) -> dict[str, str]:
    return {"slot": f"{moment.isoformat()}@{practitioner.pk}"}


def _visit(plan, number: int):
    return plan.planned_sessions.get(visit=number)


def _label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def _book_url(planned) -> str:
    return reverse("portal:visit_book", args=[planned.pk])


def _window(**given):
    facts = {"previous_day": None, "min_gap": 14, "max_gap": 56, "first_days": 28} | given
    return visit_window(**facts)


def test_the_first_session_of_a_series_may_start_for_some_weeks_from_its_planned_day():
    monday = date(2027, 1, 4)
    # Visit 1 is planned on one day (the plan's start): it stays bookable for PORTAL_FIRST_VISIT_DAYS.
    assert _window(earliest=monday, latest=monday, today=monday) == VisitWindow(
        monday, monday + timedelta(days=27)
    )
    # A planned window longer than that is kept whole.
    assert _window(earliest=monday, latest=monday + timedelta(days=40), today=monday) == VisitWindow(
        monday, monday + timedelta(days=40)
    )
    # Today cuts the start; once the span has passed there is no window.
    assert _window(earliest=monday, latest=monday, today=monday + timedelta(days=10)) == VisitWindow(
        monday + timedelta(days=10), monday + timedelta(days=27)
    )
    assert _window(earliest=monday, latest=monday, today=monday + timedelta(days=28)) is None


def test_a_later_session_follows_the_previous_one_by_the_plans_interval_not_its_planned_dates():
    monday = date(2027, 1, 4)
    # Planned for Jan 4..18, but visit 1 took place on Jan 11: visit 2 is 14..56 days after it.
    assert _window(
        earliest=monday,
        latest=monday + timedelta(days=14),
        previous_day=monday + timedelta(days=7),
        today=monday,
    ) == VisitWindow(monday + timedelta(days=21), monday + timedelta(days=63))
    # A previous session long past leaves no window: the series' longest interval has run out.
    assert (
        _window(earliest=monday, latest=monday, previous_day=monday, today=monday + timedelta(days=57))
        is None
    )
    # With no longest interval, a later session has the first session's span after the least one.
    assert _window(
        earliest=monday, latest=monday, previous_day=monday, max_gap=None, today=monday
    ) == VisitWindow(monday + timedelta(days=14), monday + timedelta(days=41))


def test_moving_a_session_keeps_the_plans_interval_to_the_next_booked_one():
    monday = date(2027, 1, 4)
    # Visit 1 on Jan 4, visit 3 booked on Feb 15: visit 2 is at least 14 days from both, at most 56 after visit 1.
    assert _window(
        earliest=monday,
        latest=monday,
        previous_day=monday,
        next_day=monday + timedelta(days=42),
        today=monday,
    ) == VisitWindow(monday + timedelta(days=14), monday + timedelta(days=28))
    # Moving visit 1 with visit 2 booked: no later than 14 days before it, no earlier than 56 days before.
    assert _window(
        earliest=monday - timedelta(days=100),
        latest=monday - timedelta(days=100),
        next_day=monday + timedelta(days=70),
        today=monday,
    ) == VisitWindow(monday + timedelta(days=14), monday + timedelta(days=56))


def test_the_window_reads_as_a_sentence():
    monday = date(2027, 1, 4)
    assert window_sentence(2, VisitWindow(monday, monday + timedelta(days=14))) == (
        "Visit 2 can be booked between Mon 4 Jan and Mon 18 Jan 2027."
    )
    assert window_sentence(1, VisitWindow(monday, monday)) == "Visit 1 can be booked on Mon 4 Jan 2027."


def _five_hours_ahead(patient, practitioner, plan):
    """Visit 1 of the plan, booked to start within the cancellation notice."""
    return factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=timezone.now() + timedelta(hours=5),
        plan=plan,
        planned_session=_visit(plan, 1),
    )


def test_the_home_page_offers_to_book_the_next_visit_and_to_change_or_cancel_a_booked_one(
    patient_client, patient, plan, practitioner, start
):
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert f'href="{_book_url(_visit(plan, 1))}"' in page
    assert _book_url(_visit(plan, 2)) not in page
    session = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(start, 10),
        plan=plan,
        planned_session=_visit(plan, 1),
    )
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert f'href="{_book_url(_visit(plan, 2))}"' in page and _book_url(_visit(plan, 1)) not in page
    assert reverse("portal:session_move", args=[session.pk]) in page
    assert reverse("portal:session_cancel", args=[session.pk]) in page


def test_booking_inside_the_window_books_the_planned_session_through_the_service(
    patient_client, patient, plan, practitioner, start
):
    planned = _visit(plan, 1)
    page = patient_client.get(_book_url(planned))
    text = page.content.decode()
    assert page.status_code == 200
    # Planned on `start`, visit 1 may start in the 28 days from it (PORTAL_FIRST_VISIT_DAYS).
    last = start + timedelta(days=27)
    first = f"{start:%a} {start.day} {start:%b}" + ("" if start.year == last.year else f" {start.year}")
    assert f"Visit 1 can be booked between {first} and {_label(last)}." in text
    assert f'min="{start:%Y-%m-%d}"' in text and f'max="{last:%Y-%m-%d}"' in text
    assert f'value="{_at(start, 10).isoformat()}@{practitioner.pk}"' in text  # the first free day by default
    response = patient_client.post(_book_url(planned), _slot(_at(start, 10), practitioner))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    session = Appointment.objects.get(planned_session=planned)
    assert session.plan == plan and session.patient == patient and session.starts_at == _at(start, 10)
    assert session.booked_by == PortalAccount.objects.get(patient=patient).user
    assert list(session.areas.values_list("slug", flat=True)) == ["cheeks"]
    home = patient_client.get(response["Location"]).content.decode()
    assert "Visit 1 is booked" in home
    assert AccessLogEntry.objects.filter(
        view_name="portal:visit_book", patient_id=patient.pk, kind="portal"
    ).exists()


def test_the_desk_sees_that_the_patient_booked_online(patient_client, patient, plan, practitioner, start):
    patient_client.post(_book_url(_visit(plan, 1)), _slot(_at(start, 10), practitioner))
    online = Appointment.objects.get(planned_session=_visit(plan, 1))
    desk = Client()
    desk.force_login(factories.front_desk())
    panel = desk.get(reverse("treatments:session", args=[online.pk])).content.decode()
    assert "Booked online by the patient" in panel
    by_desk = factories.make_session(patient=patient, practitioner=practitioner, start=_at(start, 14))
    assert "Booked online" not in desk.get(reverse("treatments:session", args=[by_desk.pk])).content.decode()


def test_a_time_outside_the_window_is_refused_with_the_window_and_nothing_is_booked(
    patient_client, patient, plan, practitioner, start
):
    # Visit 1 done on start + 20: visit 2 is between start + 34 and start + 76 (14 to 56 days on).
    factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(start, 10),
        plan=plan,
        planned_session=_visit(plan, 1),
    )
    Appointment.objects.filter(planned_session=_visit(plan, 1)).update(
        starts_at=_at(start + timedelta(days=20), 10),
        ends_at=_at(start + timedelta(days=20), 11),
        blocked_until=_at(start + timedelta(days=20), 11, 15),
    )
    planned = _visit(plan, 2)
    first, last = start + timedelta(days=34), start + timedelta(days=76)
    window = f"Visit 2 can be booked between {first:%a} {first.day} {first:%b}"
    window += "" if first.year == last.year else f" {first.year}"
    window += f" and {_label(last)}."
    assert window in patient_client.get(_book_url(planned)).content.decode()
    for day in (start + timedelta(days=30), last + timedelta(days=1)):
        response = patient_client.post(_book_url(planned), _slot(_at(day, 10), practitioner))
        text = response.content.decode()
        assert response.status_code == 400
        assert f"{_label(day)} is outside this visit&#x27;s dates. {window}" in text
    assert not Appointment.objects.filter(planned_session=planned).exists()
    # A day outside asked for by the address says so too, and offers no time.
    outside = patient_client.get(_book_url(planned), {"day": (last + timedelta(days=3)).isoformat()})
    assert outside.status_code == 200 and "is outside this visit" in outside.content.decode()
    assert 'name="slot"' not in outside.content.decode()


def test_a_contraindication_on_that_date_is_refused_without_a_clinical_word(
    patient_client, patient, plan, practitioner, start
):
    record = factories.ConditionRecordFactory(
        patient=patient, condition=factories.condition("keloid_tendency"), areas=[]
    )
    response = patient_client.post(_book_url(_visit(plan, 1)), _slot(_at(start, 10), practitioner))
    text = response.content.decode()
    assert response.status_code == 400
    assert "The clinic needs to check something with you" in text and "call the clinic" in text
    for clinical in (record.condition.name, "keloid", "must not", "contraindicat", "clinician"):
        assert clinical.lower() not in text.lower()
    assert not Appointment.objects.filter(patient=patient).exists()
    # Every day of the window is refused for it: no time is offered, nor the waitlist, which would not help.
    page = patient_client.get(_book_url(_visit(plan, 1))).content.decode()
    assert "This visit cannot be booked online on any of its dates." in page
    assert "The clinic needs to check something with you first" in page
    assert 'name="slot"' not in page and "Join the waitlist" not in page
    # Nothing to choose from: no day picker, no "Free times on" heading under the message.
    assert 'name="day"' not in page and "Free times on" not in page and "Back to your treatment" in page
    for clinical in (record.condition.name, "keloid", "must not", "contraindicat", "clinician"):
        assert clinical.lower() not in page.lower()


def test_days_a_contraindication_defers_are_not_offered_and_the_first_free_day_is(
    patient_client, patient, plan, practitioner, start
):
    # Isotretinoin stopped 175 days before `start`: microneedling waits until start + 5.
    record = factories.ConditionRecordFactory(
        patient=patient,
        condition=factories.condition("isotretinoin"),
        since=start - timedelta(days=400),
        until=start - timedelta(days=175),
        areas=[],
    )
    url = _book_url(_visit(plan, 1))
    page = patient_client.get(url).content.decode()
    free = start + timedelta(days=5)
    assert f"Free times on {_label(free)}" in page and 'name="slot"' in page
    refused = patient_client.get(url, {"day": start.isoformat()}).content.decode()
    assert f"This visit cannot be booked on {_label(start)}." in refused
    assert "Please choose another day or call the clinic." in refused
    assert 'name="slot"' not in refused
    assert f'href="?day={free:%Y-%m-%d}"' in refused  # the first day with a free time
    assert "isotretinoin" not in refused.lower() and record.condition.name.lower() not in refused.lower()
    # A day with free times of its own does not point elsewhere; a day outside the window does.
    later = patient_client.get(url, {"day": (free + timedelta(days=1)).isoformat()}).content.decode()
    assert 'name="slot"' in later and 'data-testid="first-free-day"' not in later
    outside = patient_client.get(url, {"day": (start + timedelta(days=60)).isoformat()}).content.decode()
    assert "is outside this visit" in outside and f'href="?day={free:%Y-%m-%d}"' in outside
    # A time offered is one the booking service takes.
    response = patient_client.post(url, _slot(_at(free, 10), practitioner))
    assert response.status_code == 302
    assert Appointment.objects.get(planned_session=_visit(plan, 1)).starts_at == _at(free, 10)


def test_days_too_close_to_another_session_of_the_series_are_not_offered(
    patient_client, patient, plan, practitioner, start
):
    # Visit 1 on `start`; a microneedling session the desk booked outside the plan on start + 20.
    factories.make_session(
        patient=patient, practitioner=practitioner, start=_at(start, 10), plan=plan,
        planned_session=_visit(plan, 1),
    )  # fmt: skip
    other = factories.make_session(
        patient=patient, practitioner=practitioner, start=_at(start + timedelta(days=20), 10),
        treatment_slug=_visit(plan, 1).treatment.slug,
    )  # fmt: skip
    url = _book_url(_visit(plan, 2))
    # Visit 2 may be 14 to 56 days after visit 1, and 14 days from the other session: from start + 34.
    page = patient_client.get(url).content.decode()
    free = start + timedelta(days=34)
    assert f"Free times on {_label(free)}" in page
    close = patient_client.get(url, {"day": (start + timedelta(days=25)).isoformat()}).content.decode()
    assert f"This visit cannot be booked on {_label(start + timedelta(days=25))}." in close
    twenty = start + timedelta(days=20)
    # Dates as the rest of the portal writes them ("28 Dec 2026"), not "Dec 28, 2026".
    assert f"on {twenty.day} {twenty:%b %Y} is only 5 days away; its series needs at least 14 days" in close
    assert 'name="slot"' not in close
    # Moving the other session away frees those days.
    other.status = Appointment.Status.CANCELLED
    other.save(update_fields=["status"])
    page = patient_client.get(url).content.decode()
    assert f"Free times on {_label(start + timedelta(days=14))}" in page


def test_moving_a_visit_is_offered_only_days_that_keep_the_interval_to_the_next_booked_visit(
    patient_client, patient, plan, practitioner, start
):
    one = factories.make_session(
        patient=patient, practitioner=practitioner, start=_at(start, 10), plan=plan,
        planned_session=_visit(plan, 1),
    )  # fmt: skip
    factories.make_session(
        patient=patient, practitioner=practitioner, start=_at(start + timedelta(days=20), 10), plan=plan,
        planned_session=_visit(plan, 2),
    )  # fmt: skip
    # Visit 1 may move from its planned first day up to 14 days before visit 2 (start + 6).
    page = patient_client.get(reverse("portal:session_move", args=[one.pk])).content.decode()
    last = start + timedelta(days=6)
    first = f"{start:%a} {start.day} {start:%b}" + ("" if start.year == last.year else f" {start.year}")
    assert f"Visit 1 can be booked between {first} and {_label(last)}." in page
    outside = patient_client.post(
        reverse("portal:session_move", args=[one.pk]), _slot(_at(start + timedelta(days=8), 10), practitioner)
    )
    assert outside.status_code == 400 and "is outside this visit" in outside.content.decode()


def test_a_time_just_taken_is_refused_in_plain_words_with_the_other_times(
    patient_client, patient, plan, practitioner, start
):
    factories.make_session(practitioner=practitioner, start=_at(start, 10))
    response = patient_client.post(_book_url(_visit(plan, 1)), _slot(_at(start, 10), practitioner))
    assert response.status_code == 409
    assert "That time has just been taken" in response.content.decode()
    assert 'name="slot"' in response.content.decode()


def test_tampered_or_empty_posts_are_refused_never_a_500(patient_client, plan, start, practitioner):
    url = _book_url(_visit(plan, 1))
    for data in (
        {},
        {"slot": "nonsense"},
        {"slot": f"{_at(start, 10).isoformat()}@999999"},
        {"slot": f"{_at(start, 10).isoformat()}@x"},
        {"slot": "9999-12-31T23:59:59-12:00@1"},
        {"slot": "0001-01-01T00:00:00+14:00@1"},
    ):
        response = patient_client.post(url, data)
        assert response.status_code == 400, data
    past = _at(timezone.localdate(), 0)
    assert patient_client.get(url, {"day": "not-a-day"}).status_code == 200
    assert patient_client.post(url, _slot(past, practitioner)).status_code == 400


def test_another_patients_visits_and_sessions_are_a_404(patient_client, practitioner, start):
    other = factories.PatientFactory()
    plan = factories.make_accepted_plan(other, start=start, sessions=2)
    session = factories.make_session(
        patient=other,
        practitioner=practitioner,
        start=_at(start, 10),
        plan=plan,
        planned_session=_visit(plan, 1),
    )
    for url in (
        _book_url(_visit(plan, 2)),
        reverse("portal:session_move", args=[session.pk]),
        reverse("portal:session_cancel", args=[session.pk]),
        reverse("portal:visit_book", args=[999_999_999]),
    ):
        assert patient_client.get(url).status_code == 404, url
        assert patient_client.post(url, _slot(_at(start, 11), practitioner)).status_code == 404, url
    assert patient_client.post(reverse("portal:visit_waitlist", args=[_visit(plan, 2).pk])).status_code == 404
    assert Appointment.objects.filter(patient=other).count() == 1
    assert not WaitlistEntry.objects.exists()


def test_a_later_visit_waits_for_the_earlier_one(patient_client, plan):
    response = patient_client.get(_book_url(_visit(plan, 2)))
    assert "Please book visit 1 first." in response.content.decode()
    assert 'name="slot"' not in response.content.decode()


def test_cancelling_before_the_notice_and_refused_after_it(
    patient_client, patient, plan, practitioner, start
):
    session = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(start, 10),
        plan=plan,
        planned_session=_visit(plan, 1),
    )
    url = reverse("portal:session_cancel", args=[session.pk])
    confirm = patient_client.get(url)
    assert confirm.status_code == 200 and "Cancel this session" in confirm.content.decode()
    response = patient_client.post(url, {"version": confirm.context["version"]})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Appointment.Status.CANCELLED
    assert session.cancel_reason == "Cancelled by the patient online"
    assert session.cancelled_by == PortalAccount.objects.get(patient=patient).user

    soon = _five_hours_ahead(patient, practitioner, plan)
    message = "Sessions can be cancelled online until 24 hours before; please call the clinic"
    url = reverse("portal:session_cancel", args=[soon.pk])
    assert message in patient_client.get(url).content.decode()
    refused = patient_client.post(url)
    assert refused.status_code == 400 and message in refused.content.decode()
    soon.refresh_from_db()
    assert soon.status == Appointment.Status.BOOKED


def test_the_notice_is_a_setting(patient_client, patient, plan, practitioner, settings):
    settings.PORTAL_CANCEL_NOTICE_HOURS = 2
    soon = _five_hours_ahead(patient, practitioner, plan)
    assert patient_client.post(reverse("portal:session_cancel", args=[soon.pk])).status_code == 302


def test_moving_inside_the_window_through_the_service(patient_client, patient, plan, practitioner, start):
    factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(start, 10),
        plan=plan,
        planned_session=_visit(plan, 1),
    )
    second = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(start + timedelta(days=30), 10),
        plan=plan,
        planned_session=_visit(plan, 2),
    )
    url = reverse("portal:session_move", args=[second.pk])
    target = start + timedelta(days=35)
    page = patient_client.get(url, {"day": target.isoformat()})
    text = page.content.decode()
    assert page.status_code == 200 and "Change the time of visit 2" in text
    assert f"{_label(start + timedelta(days=56))}." in text
    response = patient_client.post(
        url, {**_slot(_at(target, 11), practitioner), "version": page.context["version"]}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.starts_at == _at(target, 11) and second.status == Appointment.Status.BOOKED
    # Outside the window: refused before the service, the session left where it is.
    refused = patient_client.post(url, _slot(_at(start + timedelta(days=60), 11), practitioner))
    assert refused.status_code == 400 and "is outside this visit" in refused.content.decode()
    second.refresh_from_db()
    assert second.starts_at == _at(target, 11)


def test_moving_within_the_notice_is_refused(patient_client, patient, plan, practitioner):
    soon = _five_hours_ahead(patient, practitioner, plan)
    response = patient_client.get(reverse("portal:session_move", args=[soon.pk]))
    assert (
        "Sessions can be moved online until 24 hours before; please call the clinic"
        in response.content.decode()
    )


def test_the_home_page_says_to_call_instead_of_offering_a_change_within_the_notice(
    patient_client, patient, plan, practitioner
):
    soon = _five_hours_ahead(patient, practitioner, plan)
    page = patient_client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:session_move", args=[soon.pk]) not in page
    assert reverse("portal:session_cancel", args=[soon.pk]) not in page
    assert "Less than 24 hours to go: to change or cancel this session, please call the clinic." in page


def test_a_full_window_offers_the_waitlist(patient_client, patient, plan, practitioner, start):
    Closure.objects.create(
        location=practitioner.working_hours.first().location,
        first_day=start,
        last_day=start + timedelta(days=27),
    )
    url = _book_url(_visit(plan, 1))
    text = patient_client.get(url).content.decode()
    assert "No time is free for this visit between those dates." in text
    assert "Join the waitlist for this visit" in text
    response = patient_client.post(reverse("portal:visit_waitlist", args=[_visit(plan, 1).pk]))
    assert response.status_code == 302 and response["Location"] == url
    entry = WaitlistEntry.objects.get(planned_session=_visit(plan, 1))
    assert entry.patient == patient and entry.status == WaitlistEntry.Status.WAITING
    # The window the page showed (the first session's PORTAL_FIRST_VISIT_DAYS), not only the planned day.
    assert (entry.earliest, entry.latest) == (start, start + timedelta(days=27))
    assert entry.added_by == PortalAccount.objects.get(patient=patient).user
    text = patient_client.get(url).content.decode()
    assert "You are on the waitlist for this visit" in text and "Join the waitlist" not in text
    again = patient_client.post(reverse("portal:visit_waitlist", args=[_visit(plan, 1).pk]), follow=True)
    assert "You are already on the waitlist for this visit." in again.content.decode()


def test_the_booking_pages_hold_to_the_content_security_policy(
    patient_client, patient, plan, practitioner, start
):
    session = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        start=_at(start, 10),
        plan=plan,
        planned_session=_visit(plan, 1),
    )
    for url in (
        _book_url(_visit(plan, 2)),
        reverse("portal:session_move", args=[session.pk]),
        reverse("portal:session_cancel", args=[session.pk]),
    ):
        response = patient_client.get(url)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert "<script>" not in page and " style=" not in page and "<style" not in page
        for form in page.split("<form")[1:]:
            if 'method="post"' in form.split(">")[0]:
                assert "csrfmiddlewaretoken" in form
