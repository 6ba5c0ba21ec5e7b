"""One archive holds what the clinic cannot rebuild: the PostgreSQL database (pg_dump's custom
format) and the private media (clinical photos). `manage.py backup FILE` writes it,
`manage.py restore FILE` puts it back into an empty database. See docs/operations.md."""

import glob
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

DUMP = "database.dump"
MEDIA = "media"
MANIFEST = "manifest.json"
FORMAT = 1


class BackupProblem(Exception):
    """A one-line reason the backup or restore cannot go on."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version, reverse=True)
    if candidates:
        return candidates[0]
    raise BackupProblem(f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin.")


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _database(alias: str) -> tuple[dict[str, str], list[str]]:
    """(environment, connection arguments) for the PostgreSQL client tools."""
    config = connections[alias].settings_dict
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise BackupProblem("backup and restore need PostgreSQL (DATABASE_URL=postgres://...).")
    environment = dict(os.environ)
    if config.get("PASSWORD"):
        environment["PGPASSWORD"] = str(config["PASSWORD"])
    arguments = [f"--dbname={config['NAME']}"]
    if config.get("HOST"):
        arguments.append(f"--host={config['HOST']}")
    if config.get("PORT"):
        arguments.append(f"--port={config['PORT']}")
    if config.get("USER"):
        arguments.append(f"--username={config['USER']}")
    return environment, arguments


def _run(command: list[str], environment: dict[str, str]) -> None:
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit code {finished.returncode}"
        raise BackupProblem(f"{Path(command[0]).name} failed: {reason}")


def backup(destination: Path, *, alias: str = "default") -> dict[str, object]:
    """Write the archive to `destination` (readable by its owner only); returns its manifest."""
    environment, arguments = _database(alias)
    media_root = Path(settings.MEDIA_ROOT)
    partial = destination.with_name(destination.name + ".partial")
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / DUMP
        _run(
            [
                _binary("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={dump}",
                *arguments,
            ],
            environment,
        )
        files = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
        manifest: dict[str, object] = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": connections[alias].settings_dict["NAME"],
            "media_files": len(files),
        }
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            text = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(text), int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(text))
            archive.add(dump, arcname=DUMP)
            for path in files:
                archive.add(path, arcname=f"{MEDIA}/{path.relative_to(media_root).as_posix()}")
    partial.replace(destination)
    return manifest


def _database_is_empty(alias: str) -> bool:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            return not connection.introspection.table_names(cursor)
    except DatabaseError as error:
        reason = (str(error).strip().splitlines() or ["no reason given"])[0]
        raise BackupProblem(
            f"Cannot open the database {connection.settings_dict['NAME']}: {reason}"
        ) from error


def restore(source: Path, *, alias: str = "default") -> dict[str, object]:
    """Restore the archive into the (empty) database and the (empty) media directory."""
    if not source.is_file():
        raise BackupProblem(f"{source}: no such archive.")
    environment, arguments = _database(alias)
    if not _database_is_empty(alias):
        name = connections[alias].settings_dict["NAME"]
        raise BackupProblem(f"The database {name} is not empty: restore only into a new, empty database.")
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.is_dir() and any(media_root.iterdir()):
        raise BackupProblem(f"The media directory {media_root} is not empty: restore into an empty one.")
    connections[alias].close()
    with tempfile.TemporaryDirectory() as work:
        try:
            with tarfile.open(source, mode="r:*") as archive:
                # The "data" filter refuses absolute paths, links out of the folder and devices.
                archive.extractall(work, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise BackupProblem(f"{source}: not a backup archive ({error}).") from error
        manifest_path, dump = Path(work) / MANIFEST, Path(work) / DUMP
        if not manifest_path.is_file() or not dump.is_file():
            raise BackupProblem(f"{source}: not a backup archive (no {MANIFEST} or {DUMP}).")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT:
            raise BackupProblem(f"{source}: archive format {manifest.get('format')} is not {FORMAT}.")
        _run(
            [
                _binary("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                *arguments,
                str(dump),
            ],
            environment,
        )
        media = Path(work) / MEDIA
        if media.is_dir():
            media_root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(media, media_root, dirs_exist_ok=True)
    return manifest
