"""Pages at scale, under load: `make bench-load` (method and figures: docs/performance.md).

1. A scale database, BENCH_LOAD_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/scale_clinic):
   reused when it was built today from the same sizes and the same seeding code, else dropped and
   built: migrate, seed_catalog, the demo logins (clinic.demo.create_demo_users, DEMO_PASSWORD),
   then seed_scale with the demo clinicians as its first practitioners. Sizes: SCALE_PATIENTS
   (20000), SCALE_PRACTITIONERS (40), SCALE_LOCATIONS (4), SCALE_DAYS (250), SCALE_SEED (1);
   BENCH_REBUILD=1 builds it again anyway.
2. Static files collected into a folder of the benchmark's own (bench/load/bench_settings.py), and
   gunicorn, 2 workers, production settings (DEBUG=0, a SECRET_KEY, WhiteNoise, REQUIRE_2FA=0,
   SECURE_SSL_REDIRECT=0), on a free port of 127.0.0.1.
3. Queries per page, in-process: the Django test client and CaptureQueriesContext against the same
   database, logged in as the same user; the second request of each page (the first warms caches).
4. locust, headless (bench/load/locustfile.py), as the demo `clinician` logged in through the login
   form: for each page a floor segment then the page's segment (floor, page, floor, page...), each
   BENCH_FLOOR_SECONDS (10) / BENCH_PAGE_SECONDS (15) long, at each concurrency of BENCH_USERS
   ("2"; e.g. "2 20"), BENCH_ROUNDS (1) times over. The floor is the password-change-done page: the
   middleware, the session and the login, no data. BENCH_PAGES="patient list,My day" runs only those
   pages.
5. A table per concurrency: requests per second, p50/p95/p99 in ms, errors, the floor's rate in the
   segment just before and the page's rate as a share of it (over rounds: medians), queries per
   page. The samples and the table are also written as JSON to BENCH_LOAD_OUT (default
   /tmp/bench-load.json).
"""

import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dj_database_url
import psycopg2
from _django import percentile

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOAD = ROOT / "bench" / "load"
WARM_SECONDS = 2.0  # the start of each segment is not counted: the users are still on the last URL
SEED_FILES = ("clinic/scale_data.py", "clinic/management/commands/seed_scale.py")
LONG_HISTORY_EMAIL = "long.history@scale.example"


def env_int(name, default):
    return int(os.environ.get(name) or default)


def settings_env(url, static_root):
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-load-secret-key-not-for-production"),
        "REQUIRE_2FA": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "BENCH_STATIC_ROOT": str(static_root),
        "PYTHONPATH": os.pathsep.join([str(LOAD), str(ROOT)]),
        "LOG_LEVEL": "WARNING",
    }


def manage(env, *args, quiet=False):
    command = [str(BIN / "python"), "manage.py", *args]
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=output)  # noqa: S603


# -- the scale database ---------------------------------------------------------------------------


def admin_connection(config):
    connection = psycopg2.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
    )
    connection.autocommit = True
    return connection


def build_key(sizes):
    """What the database was built from: sizes, seed, the day (data is laid around today), code."""
    digest = hashlib.sha256()
    for name in SEED_FILES:
        digest.update((ROOT / name).read_bytes())
    today = datetime.now(ZoneInfo(os.environ.get("TIME_ZONE") or "America/New_York")).date()  # the clinic's
    return json.dumps({**sizes, "day": today.isoformat(), "code": digest.hexdigest()[:12]}, sort_keys=True)


def scale_database(url, env, sizes, password):
    config = dj_database_url.parse(url)
    name = config["NAME"]
    if not name.startswith(("scale_", "helper_d")):
        sys.exit(f"bench-load only builds databases named scale_* (got {name}).")
    key = build_key(sizes)
    admin = admin_connection(config)
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        )
        row = cursor.fetchone()
    if row is not None and row[0] == key and not os.environ.get("BENCH_REBUILD"):
        print(f"Reusing {name} (built today with the same sizes): {key}")
        manage(env, "migrate", "--noinput", "-v0")
        admin.close()
        return None
    print(f"Building {name}: {key}")
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_catalog", "-v0")
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "import os; from clinic.demo import create_demo_users; "
        "create_demo_users(password=os.environ['BENCH_PASSWORD'])",
        quiet=True,
    )
    started = time.perf_counter()
    manage(
        env,
        "seed_scale",
        f"--patients={sizes['patients']}",
        f"--practitioners={sizes['practitioners']}",
        f"--locations={sizes['locations']}",
        f"--days={sizes['days']}",
        f"--seed={sizes['seed']}",
        "--clinician-users=clinician,clinician2",
    )
    seeded = time.perf_counter() - started
    with admin.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{name}" IS %s', [key])
    admin.close()
    print(f"seed_scale took {seeded:.0f} s (wall clock, with its start-up).")
    return seeded


def collect_static(env, static_root):
    """collectstatic (WhiteNoise compresses every file: minutes on a busy machine), unless the
    manifest is newer than the project's static files and the packages that bring theirs."""
    manifest = static_root / "staticfiles.json"
    sources = [ROOT / "package-lock.json", ROOT / "requirements.txt"]
    sources += [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    if manifest.exists() and manifest.stat().st_mtime > max(path.stat().st_mtime for path in sources):
        print(f"Static files: {static_root} is up to date.")
        return
    started = time.perf_counter()
    manage(env, "collectstatic", "--noinput", "-v0")
    print(f"Static files collected into {static_root} in {time.perf_counter() - started:.0f} s.")


# -- the pages ------------------------------------------------------------------------------------


def pages():
    """(name, url) of each page, for the long-history patient and the busiest day."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from patients.models import Patient
    from treatments.models import Appointment, SessionRecord
    from treatments.selectors.availability import clinic_zone

    patient = Patient.objects.filter(email=LONG_HISTORY_EMAIL).order_by("-pk").first()
    if patient is None:
        sys.exit("No long-history patient in the scale database: rebuild it (BENCH_REBUILD=1).")
    record = (
        SessionRecord.objects.filter(appointment__patient=patient, signed_at__isnull=False)
        .order_by("-appointment__starts_at")
        .first()
    )
    busiest = (
        Appointment.objects.annotate(day=TruncDate("starts_at", tzinfo=clinic_zone()))
        .values("day")
        .annotate(sessions=Count("id"))
        .order_by("-sessions", "day")
        .first()
    )
    tomorrow = timezone.localdate() + timedelta(days=1)
    return [
        ("patient list", "/patients/"),
        ("patient (long history)", f"/patients/{patient.pk}/"),
        ("plan builder", f"/patients/{patient.pk}/plan/"),
        ("My day", "/my-day/"),
        ("signed record", f"/sessions/{record.appointment_id}/record/"),
        ("schedule day", "/schedule/"),
        ("schedule week", "/schedule/week/"),
        (f"API sessions, {busiest['sessions']} on a day", f"/api/sessions/?date={busiest['day']}"),
        ("API slots, 30 days", f"/api/slots/?treatment=mn&from={tomorrow}&days=30&limit=100"),
    ]


def query_counts(urls, username):
    """Queries and status of the second request to each URL, through the whole middleware stack."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(
        get_user_model().objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
    )
    counts = {}
    for name, url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        counts[name] = (len(queries), response.status_code)
    return counts


# -- serving and load -----------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(env, port, log):
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "clinic.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--timeout=120",
            f"--error-logfile={log}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
        if server.poll() is not None:
            break
    server.terminate()
    sys.exit(f"gunicorn did not answer on port {port}; see {log}")


def drive(env, host, users, phases, workdir, username, password):
    samples_path = workdir / f"samples-{users}.json"
    lead = 3.0
    total = lead + sum(seconds for _, _, seconds in phases) + 1
    locust_env = {
        **env,
        "BENCH_PHASES": json.dumps(phases),
        "BENCH_SAMPLES": str(samples_path),
        "BENCH_LEAD": str(lead),
        "BENCH_USERNAME": username,
        "BENCH_PASSWORD": password,
    }
    with open(workdir / f"locust-{users}.log", "w") as log:
        subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(LOAD / "locustfile.py"),
                "--headless",
                f"--users={users}",
                f"--spawn-rate={users}",
                f"--run-time={int(total + 0.999)}s",
                f"--host={host}",
                "--stop-timeout=10",
                "--only-summary",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=locust_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,  # locust exits 1 when any request failed: the table counts them
        )
    return json.loads(samples_path.read_text())


def segment(run, index):
    """(ok samples' ms, errors, rate) of phase `index`, its first WARM_SECONDS left out."""
    name = run["phases"][index][0]
    start = run["start"] + sum(s for _, _, s in run["phases"][:index]) + WARM_SECONDS
    end = run["start"] + sum(s for _, _, s in run["phases"][: index + 1])
    inside = [s for s in run["samples"] if s[0] == name and start <= s[1] < end]
    times = [s[2] for s in inside if s[3]]
    return times, len(inside) - len(times), len(times) / (end - start)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def table(run, counts, urls, users, rounds):
    """A row per page; over several rounds, the median rates and ratios, percentiles of all samples."""
    rows = []
    for number, (name, url) in enumerate(urls):
        times, floor_times, rates, floor_rates, ratios, errors = [], [], [], [], [], 0
        for turn in range(rounds):
            index = 2 * (turn * len(urls) + number)
            floor_sample, floor_errors, floor_rate = segment(run, index)
            sample, page_errors, rate = segment(run, index + 1)
            times += sample
            floor_times += floor_sample
            rates.append(rate)
            floor_rates.append(floor_rate)
            ratios.append(rate / floor_rate if floor_rate else 0.0)
            errors += page_errors + floor_errors
        queries, status = counts.get(name, (None, None))
        rows.append(
            {
                "page": name,
                "url": url,
                "rps": median(rates),
                "p50": percentile(times, 0.50) if times else None,
                "p95": percentile(times, 0.95) if times else None,
                "p99": percentile(times, 0.99) if times else None,
                "errors": errors,
                "floor_rps": median(floor_rates),
                "floor_p50": percentile(floor_times, 0.50) if floor_times else None,
                "ratio": median(ratios) if any(floor_rates) else None,
                "ratios": ratios,
                "queries": queries,
                "status": status,
            }
        )
    print(
        f"\nc={users}: {users} logged-in users, no think time; each page after a floor segment"
        + (f"; medians of {rounds} rounds" if rounds > 1 else "")
    )
    header = f"{'page':<28} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>4} {'floor rps':>9} {'x floor':>7} {'queries':>7}"
    print(header)
    print("-" * len(header))

    def ms(value):
        return f"{value:8.0f}" if value is not None else f"{'-':>8}"

    for row in rows:
        ratio = f"{row['ratio']:7.3f}" if row["ratio"] is not None else f"{'-':>7}"
        queries = f"{row['queries']:>7}" if row["queries"] is not None else f"{'-':>7}"
        print(
            f"{row['page']:<28} {row['rps']:7.1f} {ms(row['p50'])} {ms(row['p95'])} {ms(row['p99'])} "
            f"{row['errors']:>4} {row['floor_rps']:9.1f} {ratio} {queries}"
        )
    floor = [row["floor_rps"] for row in rows]
    floor_p50 = [row["floor_p50"] for row in rows if row["floor_p50"] is not None]
    if floor:
        print(
            f"{'floor (password-change-done)':<28} {sum(floor) / len(floor):7.1f} "
            f"{ms(sum(floor_p50) / len(floor_p50) if floor_p50 else None)}   (mean over the {len(floor)} pages' floor segments; "
            f"{counts.get('floor', ('-',))[0]} queries)"
        )
    return rows


def machine():
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"Python {platform.python_version()}; {platform.platform()}"
    )


def main():
    url = os.environ.get("BENCH_LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scale_clinic")
    password = os.environ.get("DEMO_PASSWORD", "clinic-demo-2026")
    username = os.environ.get("BENCH_USERNAME", "clinician")
    sizes = {
        "patients": env_int("SCALE_PATIENTS", 20_000),
        "practitioners": env_int("SCALE_PRACTITIONERS", 40),
        "locations": env_int("SCALE_LOCATIONS", 4),
        "days": env_int("SCALE_DAYS", 250),
        "seed": env_int("SCALE_SEED", 1),
    }
    concurrency = [int(c) for c in os.environ.get("BENCH_USERS", "2").split()]
    floor_seconds = float(os.environ.get("BENCH_FLOOR_SECONDS", "10"))
    page_seconds = float(os.environ.get("BENCH_PAGE_SECONDS", "15"))
    rounds = env_int("BENCH_ROUNDS", 1)
    static_root = Path(
        os.environ.get("BENCH_STATIC_ROOT", Path(tempfile.gettempdir()) / "clinic-bench-static")
    )
    env = settings_env(url, static_root)
    env["BENCH_PASSWORD"] = password
    print(f"Machine: {machine()}")
    seeded = scale_database(url, env, sizes, password)
    collect_static(env, static_root)

    os.environ.update(
        {k: env[k] for k in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "REQUIRE_2FA", "SECURE_SSL_REDIRECT")}
    )
    os.environ.update(
        {k: env[k] for k in ("ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "BENCH_STATIC_ROOT", "LOG_LEVEL")}
    )
    sys.path[:0] = [str(LOAD), str(ROOT)]
    import django

    django.setup()
    from django.db import connection

    urls = pages()
    wanted = {w.strip() for w in os.environ.get("BENCH_PAGES", "").split(",") if w.strip()}
    if wanted:
        urls = [(name, url) for name, url in urls if name in wanted or name.split(",")[0] in wanted]
    floor_url = "/accounts/password/done/"
    counts = query_counts([*urls, ("floor", floor_url)], username)
    connection.close()
    for name, (_, status) in counts.items():
        if status != 200:
            print(f"warning: {name} answers {status} in-process")

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    port = free_port()
    server = serve(env, port, workdir / "gunicorn.log")
    results = {"machine": machine(), "sizes": sizes, "seed_scale_seconds": seeded, "runs": {}}
    try:
        phases = []
        for _ in range(rounds):
            for name, page_url in urls:
                phases += [[f"floor before {name}", floor_url, floor_seconds], [name, page_url, page_seconds]]
        for users in concurrency:
            print(
                f"\nDriving http://127.0.0.1:{port} at c={users} for {len(phases) // 2} page pairs "
                f"({floor_seconds:.0f} s floor + {page_seconds:.0f} s page each); {machine()}"
            )
            run = drive(env, f"http://127.0.0.1:{port}", users, phases, workdir, username, password)
            rows = table(run, counts, urls, users, rounds)
            results["runs"][users] = {"rows": rows, "machine_after": machine()}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    out = Path(os.environ.get("BENCH_LOAD_OUT", Path(tempfile.gettempdir()) / "bench-load.json"))
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nQueries: in-process, test client, second request. Samples and logs: {workdir}; table: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
