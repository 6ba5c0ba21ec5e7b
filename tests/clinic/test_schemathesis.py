"""schemathesis against /api/schema/: every operation of the API, fuzzed as a clinician and as the
front desk, answers below 500 (issue 13).

The schema is read from the app itself (the WSGI application, in process, on the test database),
so a new endpoint is fuzzed as soon as it is in the schema. Each operation is run with generated
data (valid and invalid: `GenerationMode.POSITIVE` and `NEGATIVE`), once with generated ids and
once with its ids pinned to real rows (a patient with a concern, an accepted plan, booked
sessions), so the fuzzed bodies and queries reach the code behind the 404s. Examples are
derandomised: a run is repeatable, and bounded by `MAX_EXAMPLES` per operation, mode and role.
"""

import json
import os
from datetime import date, datetime, time, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories
from treatments.selectors.availability import clinic_zone

pytestmark = pytest.mark.django_db

# FUZZ_EXAMPLES=200 for a longer run (a nightly job, before a release).
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FUZZ = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # report the first failure as found: no shrinking
    suppress_health_check=list(HealthCheck),
)
# For valid input every response body of a documented status matches its schema. Status codes are
# not checked: 404s (an unknown id) and DRF's 400s are not listed for every operation.
POSITIVE_CHECKS = [not_a_server_error, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error]
# Operations each role must have been answered with a 2xx at least once by the fuzz.
REACHED_BY_STAFF = {
    "GET /api/patients/",
    "POST /api/patients/search/",
    "GET /api/practitioners/",
    "GET /api/rooms/",
    "GET /api/devices/",
    "GET /api/treatments/",
    "GET /api/slots/",
    "GET /api/sessions/",
    "GET /api/sessions/{id}/",
    "POST /api/sessions/{id}/move/",
    "POST /api/sessions/{id}/cancel/",
}
REACHED = {
    "front desk": REACHED_BY_STAFF,
    "clinician": REACHED_BY_STAFF | {"GET /api/patients/{id}/suggestion/"},
}


@pytest.fixture
def in_process_app():
    """The WSGI app in this thread, inside the test's transaction: as Django's test client does, the
    connection is not closed at each request's start and end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_world(settings, in_process_app):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    settings.REQUIRE_2FA = False
    location = factories.make_location()
    clinician = factories.clinician(username="fuzz.clinician")
    practitioner = factories.make_practitioner(location, user=clinician)
    patient = factories.PatientFactory(first_name="Fuzz", last_name="Patient")
    factories.ConcernFactory(patient=patient)
    plan = factories.make_accepted_plan(patient, start=timezone.localdate())
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(days=1)
    moved, cancelled, kept = (
        factories.make_session(
            patient=patient, practitioner=practitioner, start=start + timedelta(days=2 * n), plan=plan
        )
        for n in range(3)
    )
    roles = {
        "clinician": clinician,
        "front desk": factories.front_desk(username="fuzz.desk"),
    }
    # Runs with some inputs fixed (real rows, a free time), besides the fully generated ones.
    free = datetime.combine(timezone.localdate() + timedelta(days=20), time(10), tzinfo=clinic_zone())
    pins = {
        "GET /api/patients/{id}/suggestion/": [{"path_parameters": {"id": patient.pk}}],
        "GET /api/sessions/{id}/": [{"path_parameters": {"id": kept.pk}}],
        "POST /api/sessions/{id}/move/": [
            {"path_parameters": {"id": moved.pk}},
            {
                "path_parameters": {"id": moved.pk},
                "body": {"start": free.isoformat()},
                "media_type": "application/json",
                "headers": {"If-Match": "*"},
            },
        ],
        "POST /api/sessions/{id}/cancel/": [{"path_parameters": {"id": cancelled.pk}}],
        "GET /api/sessions/": [{"query": {"patient": patient.pk}}],
        "GET /api/slots/": [{"query": {"treatment": "mn"}}],
    }
    return {
        "app": in_process_app,
        "tokens": {role: Token.objects.create(user=user).key for role, user in roles.items()},
        "pins": pins,
    }


def load_schema(app, headers):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=headers)


def fuzz(operation, auth, *, mode, seen, **fixed):
    """Run the operation's generated cases, noting the statuses seen; failures are returned, not raised."""
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS
    failures = []

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case):
        response = case.call(headers=auth)
        seen.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=checks)

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to make invalid (an operation without parameters, or all of them pinned)
    except (Exception, BaseExceptionGroup) as error:  # schemathesis groups its failures
        failures.append(f"{operation.label} ({mode.value}, {fixed or 'generated ids'}): {error}")
    return failures


@pytest.mark.parametrize("role", ["clinician", "front desk"])
def test_no_api_operation_answers_a_server_error(api_world, role):
    auth = {"Authorization": f"Token {api_world['tokens'][role]}"}
    schema = load_schema(api_world["app"], auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, "the schema lost operations"
    failures, seen = [], {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(operation, auth, mode=mode, seen=seen)
            for pinned in api_world["pins"].get(operation.label, []):
                failures += fuzz(operation, auth, mode=mode, seen=seen, **pinned)
    assert not failures, "\n\n".join(failures)
    # The fuzz was real: signed in all along, and it reached the code behind the checks.
    assert not any(401 in statuses for statuses in seen.values()), seen
    reached = {label for label, statuses in seen.items() if any(status < 300 for status in statuses)}
    assert REACHED[role] <= reached, f"never answered 2xx: {sorted(REACHED[role] - reached)}"


# POST /api/plans/suggest/ takes a free-form object in the schema, so schemathesis sends arbitrary
# keys; the profiles below have the contract's shape (docs/plan-api.md) with the catalog's real
# slugs, and values that are sometimes right, sometimes of the wrong type or out of range.
EDGE_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "2026-11-22", "2025-06-01", "1900-01-01"]


def _profiles(slugs, *, sound):
    """Profiles of the contract's shape: `sound` ones hold only valid values (real slugs, dates
    in range), the others mix in wrong types, unknown slugs and impossible dates."""

    def either(valid, odd):
        return valid if sound else st.one_of(valid, odd)

    def pick(kind):
        return either(st.sampled_from(slugs[kind]), JUNK)

    dates = either(
        st.one_of(
            st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
            st.sampled_from(["0001-01-01", "9999-12-31"]),  # valid, at the ends of the calendar
        ),
        st.one_of(st.sampled_from(EDGE_DATES), st.dates().map(date.isoformat), JUNK),
    )
    areas = either(st.lists(pick("areas"), max_size=3), JUNK)
    text = either(st.text(max_size=40), JUNK)
    concern = st.fixed_dictionaries(
        {"concern": pick("concerns"), "areas": areas},
        optional={
            "severity": either(st.sampled_from(["mild", "moderate", "severe"]), st.sampled_from(["", "x"])),
            "note": text,
        },
    )
    condition = st.fixed_dictionaries(
        {"condition": pick("conditions")},
        optional={
            "areas": areas,
            "since": dates,
            "until": dates,
            "value": either(st.floats(min_value=0, max_value=1000), NUMBERS),
            "note": text,
        },
    )
    cleared = st.fixed_dictionaries(
        {"treatment": pick("treatments"), "condition": pick("conditions")},
        optional={"reason": text, "by": text},
    )
    patient = st.fixed_dictionaries(
        {},
        optional={
            "birth_date": dates,
            "sex": either(st.sampled_from(["female", "male", "other", "unknown"]), JUNK),
            "fitzpatrick": either(st.integers(min_value=1, max_value=6), NUMBERS),
        },
    )
    return st.fixed_dictionaries(
        {"concerns": either(st.lists(concern, min_size=1, max_size=3), JUNK)},
        optional={
            "today": dates,
            "patient": either(patient, JUNK),
            "conditions": either(st.lists(condition, max_size=4), JUNK),
            "cleared": either(st.lists(cleared, max_size=2), JUNK),
        },
    )


TEXT = st.text(max_size=40)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 6, 7, -1]),
)
JUNK = st.one_of(
    st.none(), TEXT, st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.just({})
)


def test_plan_suggestions_from_fuzzed_profiles_are_never_a_server_error(clinician_client):
    from patients.models import BodyArea, MedicalCondition, SkinConcern
    from treatments.models import Treatment

    slugs = {
        "areas": list(BodyArea.objects.values_list("slug", flat=True)),
        "concerns": list(SkinConcern.objects.values_list("slug", flat=True)),
        "conditions": list(MedicalCondition.objects.values_list("slug", flat=True)),
        "treatments": list(Treatment.objects.values_list("slug", flat=True)),
    }
    statuses = set()

    @hypothesis_settings(FUZZ, max_examples=10 * MAX_EXAMPLES)
    @given(profile=st.one_of(_profiles(slugs, sound=True), _profiles(slugs, sound=False)))
    def post(profile):
        body = json.dumps(profile, allow_nan=True)
        response = clinician_client.post("/api/plans/suggest/", body, content_type="application/json")
        assert response.status_code < 500, (profile, response.content[:300])
        statuses.add(response.status_code)

    post()
    assert statuses >= {200, 400}, "the fuzz never reached a suggestion, or never a refusal"
