"""A backup restored into a fresh database finds the same patients, session records and photo bytes."""

import os
import subprocess
import sys
import uuid

import psycopg2
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests import factories
from treatments.models import SessionPhoto, SessionRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PHOTO = b"\x89PNG\r\n\x1a\n not really a photo, but its bytes must come back unchanged"


def _server(**extra):
    config = connection.settings_dict
    return {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        **extra,
    }


@pytest.fixture
def fresh_database():
    name = f"clinic_restore_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**_server(dbname="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _database_url(name):
    config = connection.settings_dict
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    return f"postgres://{config['USER']}{password}@{config['HOST'] or 'localhost'}:{config['PORT'] or 5432}/{name}"


def test_a_backup_restores_into_a_fresh_database_with_its_records_and_photos(
    catalog, tmp_path, fresh_database
):
    session = factories.make_session()
    SessionRecord.objects.create(appointment=session, notes="Tolerated well; mild erythema.")
    photo = SessionPhoto(
        appointment=session,
        area=factories.areas("cheeks")[0],
        kind=SessionPhoto.Kind.BEFORE,
        content_type="image/png",
        uploaded_by=factories.clinician(),
    )
    photo.image.save("before.png", ContentFile(PHOTO))
    archive = tmp_path / "clinic.tar.gz"

    call_command("backup", str(archive))

    assert archive.stat().st_mode & 0o077 == 0
    restored_media = tmp_path / "restored_media"
    restored = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": _database_url(fresh_database),
            "MEDIA_ROOT": str(restored_media),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr
    with psycopg2.connect(**_server(dbname=fresh_database)) as copy, copy.cursor() as cursor:
        cursor.execute(
            "SELECT first_name, last_name FROM patients_patient WHERE id = %s", [session.patient_id]
        )
        assert cursor.fetchone() == (session.patient.first_name, session.patient.last_name)
        cursor.execute("SELECT notes FROM treatments_sessionrecord WHERE appointment_id = %s", [session.pk])
        assert cursor.fetchone() == ("Tolerated well; mild erythema.",)
        cursor.execute("SELECT image FROM treatments_sessionphoto WHERE id = %s", [photo.pk])
        (image_name,) = cursor.fetchone()
    assert image_name == photo.image.name
    assert (restored_media / image_name).read_bytes() == PHOTO


def test_restore_refuses_a_database_that_is_not_empty(catalog, tmp_path):
    archive = tmp_path / "clinic.tar.gz"
    call_command("backup", str(archive))
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(archive))
    assert refused.value.returncode == 2
    assert "is not empty" in str(refused.value) and "\n" not in str(refused.value)


def test_restore_of_a_missing_archive_is_a_one_line_error(tmp_path):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(tmp_path / "nowhere.tar.gz")],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {tmp_path / 'nowhere.tar.gz'}: no such archive."
    ]
