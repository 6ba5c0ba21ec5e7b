"""PostgreSQL refuses overlapping active sessions for the same practitioner, room, patient or
device, whatever requests arrive together. SQLite has no exclusion constraints: there the booking
service checks inside an IMMEDIATE transaction, which serialises writers."""

from django.db import migrations

ACTIVE = "status IN ('booked', 'checked_in', 'in_progress', 'completed')"
CONSTRAINTS = [
    (
        "treatments_appointment",
        "appointment_no_overlap_practitioner",
        "practitioner_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&",
        ACTIVE,
    ),
    (
        "treatments_appointment",
        "appointment_no_overlap_room",
        "room_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&",
        f"room_id IS NOT NULL AND {ACTIVE}",
    ),
    (
        "treatments_appointment",
        "appointment_no_overlap_patient",
        "patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
        ACTIVE,
    ),
    (
        "treatments_appointmentdevice",
        "appointment_no_overlap_device",
        "device_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&",
        "active",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, expression, condition in CONSTRAINTS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist ({expression}) WHERE ({condition})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _, _ in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_scheduling")]

    operations = [migrations.RunPython(create, drop)]
