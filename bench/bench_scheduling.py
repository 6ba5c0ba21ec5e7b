"""How long proposing dates for a 6-session plan takes in a busy clinic chain.

    make bench-scheduling   (or: .venv/bin/python bench/bench_scheduling.py)

Builds, in a fresh PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/clinic_bench, dropped and created again), 4 locations with
10 practitioners each, 20,000 patients and a year of bookings (half a year back, half ahead) with
about five of six daily slots taken. Then times, for a new patient:
1. booking.propose_plan for a 6-session microneedling plan (the goal is under 100 ms), and
2. a 14-day slot search across all practitioners (what GET /api/slots/ does).
"""

import os
import random
import statistics
import sys
import time as clock
from datetime import datetime, time, timedelta

import psycopg2
from _django import percentile

PRACTITIONERS_PER_LOCATION = 10
LOCATIONS = 4
PATIENTS = 20_000
SLOTS_PER_DAY = 6  # 75-minute sessions from 09:00; 5 of 6 booked on average
RUNS = 30


def fresh_database(url):
    import dj_database_url

    config = dj_database_url.parse(url)
    admin = psycopg2.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()


def build(rng):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from patients.models import BodyArea, Patient
    from treatments.models import (
        Appointment,
        AppointmentDevice,
        Device,
        Location,
        OpeningHours,
        Practitioner,
        ResourceType,
        Room,
        Treatment,
        WorkingHours,
    )
    from treatments.selectors.availability import clinic_zone

    kinds = {r.slug: r for r in ResourceType.objects.all()}
    treatments = list(Treatment.objects.all())
    mn = Treatment.objects.get(slug="mn")
    clinician = Group.objects.get(name="clinician")
    User = get_user_model()
    patients = Patient.objects.bulk_create(
        Patient(first_name=f"P{n}", last_name=f"Bench{n}", date_of_birth="1990-01-01", fitzpatrick=1 + n % 6)
        for n in range(PATIENTS)
    )
    zone = clinic_zone()
    today = timezone.localdate()
    days = [today + timedelta(days=n) for n in range(-182, 183)]
    practitioners, pens, rooms = [], [], []
    for number in range(LOCATIONS):
        location = Location.objects.create(name=f"Bench clinic {number + 1}")
        OpeningHours.objects.bulk_create(
            OpeningHours(location=location, weekday=d, starts=time(8), ends=time(20)) for d in range(6)
        )
        site_rooms = Room.objects.bulk_create(
            Room(location=location, name=f"Room {n}", kind=kinds["treatment_room"]) for n in range(12)
        )
        site_pens = Device.objects.bulk_create(
            Device(location=location, name=f"Pen {n}", kind=kinds["microneedling_pen"]) for n in range(12)
        )
        Device.objects.bulk_create(
            Device(location=location, name=f"Centrifuge {n}", kind=kinds["centrifuge"]) for n in range(4)
        )
        for n in range(PRACTITIONERS_PER_LOCATION):
            user = User.objects.create(username=f"dr{number}-{n}")
            user.groups.add(clinician)
            practitioner = Practitioner.objects.create(user=user)
            practitioner.treatments.set(treatments)
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    practitioner=practitioner, location=location, weekday=d, starts=time(9), ends=time(17)
                )
                for d in range(5)
            )
            practitioners.append((practitioner, location))
            rooms.append(site_rooms[n])
            pens.append(site_pens[n])
    cheeks = BodyArea.objects.get(slug="cheeks")
    sessions, holds = [], []
    for day_index, day in enumerate(d for d in days if d.weekday() < 5):
        for slot in range(SLOTS_PER_DAY):
            start = datetime.combine(day, time(9), tzinfo=zone) + timedelta(minutes=75 * slot)
            for index, (practitioner, location) in enumerate(practitioners):
                if rng.random() < 1 / SLOTS_PER_DAY:
                    continue
                patient = patients[
                    ((day_index * SLOTS_PER_DAY + slot) * len(practitioners) + index) % PATIENTS
                ]
                sessions.append(
                    Appointment(
                        patient=patient,
                        treatment=mn,
                        practitioner=practitioner,
                        location=location,
                        room=rooms[index],
                        starts_at=start,
                        ends_at=start + timedelta(minutes=60),
                        blocked_until=start + timedelta(minutes=75),
                        status="completed" if day < today else "booked",
                    )
                )
    Appointment.objects.bulk_create(sessions, batch_size=5000)
    for session in sessions:
        holds.append(
            AppointmentDevice(
                appointment=session,
                device=pens[practitioners.index((session.practitioner, session.location))],
                starts_at=session.starts_at,
                blocked_until=session.blocked_until,
            )
        )
    AppointmentDevice.objects.bulk_create(holds, batch_size=5000)
    Appointment.areas.through.objects.bulk_create(
        (Appointment.areas.through(appointment_id=s.pk, bodyarea_id=cheeks.pk) for s in sessions),
        batch_size=5000,
    )
    return practitioners, len(sessions)


def six_session_plan(patient, today):
    from tests.factories import make_accepted_plan

    return make_accepted_plan(patient, sessions=6, interval=(21, 28, 42), start=today + timedelta(days=1))


def main():
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench")
    os.environ["BENCH_DATABASE_URL"] = url
    fresh_database(url)
    from _django import setup

    setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from patients.models import Patient
    from treatments.models import Appointment, Treatment
    from treatments.selectors.availability import SlotFinder
    from treatments.services import booking

    rng = random.Random(20261124)
    started = clock.perf_counter()
    practitioners, count = build(rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built {count} sessions for {len(practitioners)} practitioners at {LOCATIONS} locations, "
        f"{Patient.objects.count()} patients, in {clock.perf_counter() - started:.0f} s"
    )
    today = timezone.localdate()
    patient = Patient.objects.create(
        first_name="New", last_name="Patient", date_of_birth="1990-01-01", fitzpatrick=2
    )
    plan = six_session_plan(patient, today)
    preferred = practitioners[0][0]
    timings, problems = [], set()
    for _ in range(RUNS):
        started = clock.perf_counter()
        proposal, problem = booking.propose_plan(plan, practitioner=preferred, not_before=timezone.now())
        timings.append((clock.perf_counter() - started) * 1000)
        problems.add(problem)
        assert len(proposal) == 6 or problem
    days = [slot.local_day.isoformat() for _, slot in proposal]
    with CaptureQueriesContext(connection) as queries:
        booking.propose_plan(plan, practitioner=preferred, not_before=timezone.now())
    print(
        f"propose_plan, 6 sessions, {RUNS} runs: median {statistics.median(timings):.1f} ms, "
        f"mean {statistics.mean(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, "
        f"max {max(timings):.1f} ms, {len(queries)} queries"
    )
    print(f"  proposed days: {', '.join(days)}; problem: {problems.pop()}")
    mn = Treatment.objects.get(slug="mn")
    search = []
    for _ in range(RUNS):
        started = clock.perf_counter()
        slots = SlotFinder(mn, patient=patient).find(
            today + timedelta(days=1), today + timedelta(days=14), limit=20
        )
        search.append((clock.perf_counter() - started) * 1000)
    print(
        f"slot search, 14 days, all {len(practitioners)} practitioners, 20 slots: mean {statistics.mean(search):.1f} ms, "
        f"p95 {percentile(search, 0.95):.1f} ms ({len(slots)} found)"
    )
    print(
        f"active sessions in the database: {Appointment.objects.filter(status='booked').count()} booked ahead"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
