"""Start Django for a benchmark: a throwaway SQLite database unless BENCH_DATABASE_URL is set."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(*, seed_catalog=True):
    sys.path.insert(0, str(ROOT))
    if "BENCH_DATABASE_URL" in os.environ:
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    else:
        folder = tempfile.mkdtemp(prefix="clinic-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    # Production settings, as the app runs behind gunicorn (DEBUG off: no query log).
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("STATIC_NO_MANIFEST", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if seed_catalog:
        call_command("seed_catalog", verbosity=0)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
