"""Locust users for `make bench-load` (bench/bench_load.py starts locust with this file).

Each user logs in through the login form (CSRF token and all) as BENCH_USERNAME, then, on a clock
shared by all users, requests the URL of the current phase of BENCH_PHASES (a JSON list of
[name, url, seconds]): the floor, a page, the floor, the next page... Every request is recorded
(name, start, milliseconds, ok) and written to BENCH_SAMPLES as JSON when the run stops, with the
clock's start, so that the driver computes rates and percentiles per phase itself.
"""

import json
import os
import re
import time

import gevent
from locust import FastHttpUser, constant, events, task

PHASES = json.loads(os.environ.get("BENCH_PHASES", "[]"))
LEAD = float(os.environ.get("BENCH_LEAD", "3"))  # seconds of warm-up on the floor, not counted
USERNAME = os.environ.get("BENCH_USERNAME", "clinician")
PASSWORD = os.environ.get("BENCH_PASSWORD", "clinic-demo-2026")
FLOOR = os.environ.get("BENCH_FLOOR", "/accounts/password/done/")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

clock = {"start": None}
samples = []


@events.test_start.add_listener
def _start(environment, **kwargs):
    clock["start"] = time.time() + LEAD


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, start_time=None, **kwargs):
    samples.append(
        (name, start_time or (time.time() - response_time / 1000), response_time, exception is None)
    )


@events.quitting.add_listener
def _write(environment, **kwargs):
    path = os.environ.get("BENCH_SAMPLES")
    if path:
        with open(path, "w") as out:
            json.dump({"start": clock["start"], "phases": PHASES, "samples": samples}, out)


def current_phase(now):
    """(name, url) of the phase at `now`; ("warmup", floor) before it starts, None after it ends."""
    start = clock["start"]
    if start is None or now < start:
        return "warmup", FLOOR
    elapsed = now - start
    for name, url, seconds in PHASES:
        if elapsed < seconds:
            return name, url
        elapsed -= seconds
    return None


class Clinician(FastHttpUser):
    wait_time = constant(0)

    def cookies(self):
        """The Cookie header, sent by hand: the app keeps its production settings (Secure session
        and CSRF cookies), which a cookie jar keeps but sends only over HTTPS, and the benchmark
        talks plain HTTP to 127.0.0.1, as a TLS-terminating proxy would."""
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.client.cookiejar)}

    def on_start(self):
        form = self.client.get("/accounts/login/", name="login")
        match = TOKEN.search(form.text or "")
        if not match:
            raise RuntimeError(f"No CSRF token on the login page (status {form.status_code}).")
        with self.client.post(
            "/accounts/login/",
            data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1)},
            headers={"Referer": f"{self.host}/accounts/login/", **self.cookies()},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/accounts/login/" in response.headers.get("Location", ""):
                response.failure(f"login refused: {response.status_code}")
                raise RuntimeError(f"Login as {USERNAME} refused ({response.status_code}).")

    @task
    def phase(self):
        found = current_phase(time.time())
        if found is None:
            gevent.sleep(0.2)  # the run is over: wait for locust to stop
            return
        name, url = found
        with self.client.get(
            url, name=name, headers=self.cookies(), allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
