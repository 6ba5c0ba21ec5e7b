"""Practitioner, room, device and patient races at once, through the whole HTTP stack and real
threads against PostgreSQL: each contended slot has exactly one winner, every loser a 409 naming
the resource it lost, and nothing answers 5xx.

Four groups of RACERS bookings start together. In each group every booking differs from the
others in everything but one resource (the same practitioner, the same named room, the same named
pen, or the same patient) at the group's own time, so that resource alone decides who wins. The
front desk books them all: a patient's loser that reads the calendar after the winner committed
is refused by the overlap (409), not by the minimum interval ("0 days away")."""

import threading
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 8
GROUP_HOURS = {"practitioner": 9, "room": 11, "device": 13, "patient": 15}


def race_day():
    return timezone.localdate() + timedelta(days=10)


def at(hour):
    return timezone.make_aware(datetime.combine(race_day(), time(hour)))


@pytest.fixture
def clinic(catalog):
    location = factories.make_location(rooms=RACERS, pens=RACERS, centrifuges=0)
    rooms = list(location.rooms.order_by("pk"))
    pens = list(location.devices.order_by("pk"))
    practitioners = [factories.make_practitioner(location) for _ in range(RACERS)]
    return rooms, pens, practitioners


def bookings(rooms, pens, practitioners):
    """(group, body) for every racer: in each group only the contended resource is shared."""
    shared_patient = PatientFactory()
    for group, hour in GROUP_HOURS.items():
        for n in range(RACERS):
            yield (
                group,
                {
                    "patient": (shared_patient if group == "patient" else PatientFactory()).pk,
                    "treatment": "mn",
                    "areas": ["cheeks"],
                    "practitioner": practitioners[0 if group == "practitioner" else n].pk,
                    "room": rooms[0 if group == "room" else n].pk,
                    "devices": [pens[0 if group == "device" else n].pk],
                    "start": at(hour).isoformat(),
                },
            )


def test_four_resource_races_at_once_have_one_winner_each_and_no_server_error(clinic):
    racers = list(bookings(*clinic))
    desk = factories.front_desk()
    clients = []
    for _ in racers:
        client = Client(raise_request_exception=False)
        client.force_login(desk)
        clients.append(client)
    start = threading.Barrier(len(racers))
    answers = [None] * len(racers)

    def race(n):
        group, body = racers[n]
        try:
            start.wait()
            response = clients[n].post(reverse("api-sessions"), body, content_type="application/json")
            answers[n] = (group, response.status_code, response.json())
        except Exception as error:  # an answer that is not even a response counts as a server error
            answers[n] = (group, 599, {"detail": repr(error)})
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = Counter(status for _, status, _ in answers)
    winners = statuses[201]
    conflicts = statuses[409]
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    print(f"requests={len(answers)} winners={winners} conflicts_409={conflicts} errors_5xx={server_errors}")

    assert server_errors == 0, [a for a in answers if a[1] >= 500]
    assert not [a for a in answers if a[1] == 400], [a for a in answers if a[1] == 400]
    assert statuses == {201: len(GROUP_HOURS), 409: len(racers) - len(GROUP_HOURS)}, answers
    for group, hour in GROUP_HOURS.items():
        mine = [(status, body) for g, status, body in answers if g == group]
        assert [status for status, _ in mine].count(201) == 1, (group, mine)
        lost = {body["conflict"]["resource"] for status, body in mine if status == 409}
        assert lost == {group}, (group, mine)
        assert Appointment.objects.filter(starts_at=at(hour)).count() == 1
