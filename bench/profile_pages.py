"""Where a page's time goes, in-process, against the scale database of `make bench-load`.

    .venv/bin/python bench/profile_pages.py ["schedule week" ...]

For the floor of bench_load (the password-change-done page) and each page of bench_load.pages() (all
of them, or those named): the median of PROFILE_RUNS (20)
requests through the test client and the whole middleware stack, logged in as the demo clinician,
after two warm-up requests; then, with PROFILE_TOP=N (default 0: off), the N functions with the most
cumulative time under cProfile. Production settings as bench_load serves them (DEBUG off).
"""

import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "bench" / "load"), str(ROOT)]

from bench_load import pages, settings_env  # noqa: E402


def main(names):
    url = os.environ.get("BENCH_LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scale_clinic")
    os.environ.update(settings_env(url, Path(tempfile.gettempdir()) / "clinic-bench-static"))
    os.environ["STATIC_NO_MANIFEST"] = "1"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(
        get_user_model().objects.get(username="clinician"),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    runs = int(os.environ.get("PROFILE_RUNS") or 20)
    top = int(os.environ.get("PROFILE_TOP") or 0)
    for name, path in [("floor", "/accounts/password/done/"), *pages()]:
        if names and not any(wanted in name for wanted in names):
            continue
        for _ in range(2):
            assert client.get(path).status_code == 200, (name, path)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{name:32} median {statistics.median(timings):6.1f} ms  min {min(timings):6.1f} ms  ({path})")
        if top:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(5):
                client.get(path)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    main(sys.argv[1:])
