"""Booking writes that lose a race to a deadlock or a serialization failure run again, and answer
409 "the calendar is busy" when they keep losing, never 500.

The failures are PostgreSQL's own: a trigger raises deadlock_detected (40P01) or
serialization_failure (40001) on the first N writes to the sessions table, counted by a sequence,
which a rolled-back transaction does not reset."""

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from tests import factories
from tests.factories import PatientFactory, make_accepted_plan
from tests.scheduling.helpers import at, booking_body, make_clinic
from treatments.models import Appointment
from treatments.services import booking

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MONDAY = date(2027, 1, 4)
TABLE = Appointment._meta.db_table


@pytest.fixture
def clinic(catalog, settings):
    # Transactional: the catalog is seeded again before the clinic is built.
    return make_clinic()


@pytest.fixture
def failures():
    """failures(n, code, on): the next n writes `on` the sessions table fail with `code`;
    returns a function telling how many writes were tried."""

    def inject(times, code="40P01", on="INSERT"):
        with connection.cursor() as cursor:
            cursor.execute("CREATE SEQUENCE test_booking_failures")
            cursor.execute(
                f"""
                CREATE FUNCTION test_booking_failure() RETURNS trigger AS $$
                BEGIN
                    IF nextval('test_booking_failures') <= {int(times)} THEN
                        RAISE EXCEPTION 'injected contention' USING ERRCODE = '{code}';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql
                """
            )
            cursor.execute(
                f"CREATE TRIGGER test_booking_failure BEFORE {on} ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION test_booking_failure()"
            )

        def tries():
            with connection.cursor() as cursor:
                cursor.execute("SELECT last_value FROM test_booking_failures")
                return cursor.fetchone()[0]

        return tries

    yield inject
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS test_booking_failure ON {TABLE}")
        cursor.execute("DROP FUNCTION IF EXISTS test_booking_failure()")
        cursor.execute("DROP SEQUENCE IF EXISTS test_booking_failures")


def test_a_booking_that_meets_a_deadlock_once_runs_again_and_is_booked(front_desk_client, clinic, failures):
    _, doctor = clinic
    tries = failures(1, "40P01")
    patient = PatientFactory()
    response = front_desk_client.post(
        reverse("api-sessions"),
        booking_body(patient, doctor, at(MONDAY, 10)),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert tries() == 2
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_a_move_that_meets_a_serialization_failure_runs_again(front_desk_client, clinic, failures):
    _, doctor = clinic
    created = front_desk_client.post(
        reverse("api-sessions"),
        booking_body(PatientFactory(), doctor, at(MONDAY, 10)),
        content_type="application/json",
    ).json()
    tries = failures(2, "40001", on="UPDATE")
    moved = front_desk_client.post(
        reverse("api-session-move", args=[created["id"]]),
        {"start": at(MONDAY, 14).isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert moved.json()["start"] == "2027-01-04T14:00:00-05:00"
    assert tries() == 3


def test_a_booking_that_keeps_deadlocking_answers_409_busy_in_the_api_and_the_page(
    front_desk_client, clinic, failures
):
    _, doctor = clinic
    failures(99, "40P01")
    patient = PatientFactory()
    api = front_desk_client.post(
        reverse("api-sessions"),
        booking_body(patient, doctor, at(MONDAY, 10)),
        content_type="application/json",
    )
    assert api.status_code == 409
    assert api.json() == {"detail": booking.CALENDAR_BUSY}
    page = front_desk_client.post(
        reverse("treatments:book_session"),
        {
            "patient": patient.pk,
            "treatment": "mn",
            "areas": ["cheeks"],
            "day": MONDAY.isoformat(),
            "start": at(MONDAY, 10).isoformat(),
            "slot_practitioner": doctor.pk,
        },
    )
    assert page.status_code == 409
    assert booking.CALENDAR_BUSY in page.content.decode()
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_cancel_that_keeps_losing_answers_409_busy(front_desk_client, clinic, failures):
    _, doctor = clinic
    created = front_desk_client.post(
        reverse("api-sessions"),
        booking_body(PatientFactory(), doctor, at(MONDAY, 10)),
        content_type="application/json",
    ).json()
    tries = failures(99, "40001", on="UPDATE")
    cancelled = front_desk_client.post(
        reverse("api-session-cancel", args=[created["id"]]),
        {"reason": "Asked"},
        content_type="application/json",
    )
    assert cancelled.status_code == 409
    assert tries() == booking.ATTEMPTS
    assert Appointment.objects.get(pk=created["id"]).status == Appointment.Status.BOOKED


def test_a_whole_plan_is_run_again_as_one_transaction(clinic, failures):
    plan = make_accepted_plan(PatientFactory(), sessions=3, start=MONDAY)
    proposal, problem = booking.propose_plan(plan, not_before=at(MONDAY, 0))
    assert problem is None
    # The second session's insert deadlocks: the first must not stay booked from the failed try.
    tries = failures(0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('test_booking_failures', 1, false)")
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION test_booking_failure() RETURNS trigger AS $$
            BEGIN
                IF nextval('test_booking_failures') = 2 THEN
                    RAISE EXCEPTION 'injected contention' USING ERRCODE = '40P01';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """
        )
    booked = booking.plan_book(plan=plan, choices=proposal, by=factories.front_desk())
    assert len(booked) == 3
    assert tries() == 5
    assert Appointment.objects.filter(plan=plan).count() == 3
