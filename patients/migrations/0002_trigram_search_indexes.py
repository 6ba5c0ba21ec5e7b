"""Trigram indexes so that name and e-mail search (icontains) stays fast with tens of thousands of
patients on PostgreSQL. SQLite has no such index type and keeps plain scans."""

from django.db import migrations

INDEXES = [
    ("patients_patient_first_name_trgm", "first_name"),
    ("patients_patient_last_name_trgm", "last_name"),
    ("patients_patient_email_trgm", "email"),
    ("patients_patient_phone_digits_trgm", "phone_digits"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON patients_patient USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
