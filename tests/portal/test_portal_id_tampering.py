"""Another patient's ids in a portal address (issue 17): every portal URL that takes an id answers
404 to GET and POST alike and changes nothing, as if the object did not exist. A new portal URL
with an id fails here until ID_KINDS says what kind of object it names."""

import re
from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from clinic.models import AccessLogEntry
from tests.clinic.test_permission_matrix import app_patterns
from tests.portal import test_portal_security as security
from tests.portal.test_portal_security import ID_KINDS, OTHER, db_fingerprint, portal_names, portal_url

# The two patients and their things, as the security tests make them.
patient, other_patient, own, others = security.patient, security.other_patient, security.own, security.others

pytestmark = pytest.mark.django_db

# Fixtures the walk needs, and the POST each URL would accept for the patient's own object.
ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


def _portal_patterns():
    return {name: str(pattern) for name, pattern in app_patterns() if name.startswith("portal:")}


def test_every_portal_url_with_an_id_is_in_the_table():
    missing, unknown = [], []
    for name, pattern in _portal_patterns().items():
        arguments = ARGUMENT.findall(pattern)
        if ("int", "pk") in arguments and name not in ID_KINDS:
            missing.append(name)
        unknown += [
            f"{name}: <{c}:{a}>" for c, a in arguments if (c, a) not in {("int", "pk"), ("str", "token")}
        ]
    assert not missing, f"say in ID_KINDS (test_portal_security.py) what these name: {missing}"
    assert not unknown, f"a portal URL argument the tampering walk does not know: {unknown}"
    # The table names only kinds the walk can make.
    assert set(ID_KINDS.values()) <= {"session", "planned", "plan"}


def _post_data(target, patient):
    """What the page would take for its own object: a time, a version, answers, a signature."""
    start = target["start"] + timedelta(days=1)
    return {
        "slot": f"{start.isoformat()}@{target['practitioner'].pk}",
        "version": "",
        "new_medications": "none",
        "typed_name": f"{patient.first_name} {patient.last_name}",
        "agree": "on",
        "signature": "data:image/png;base64,iVBORw0KGgo=",
    }


def _others_things(other_patient):
    """The other patient's sessions, plans, visits, waitlist entries, consents and checks, field by field."""
    from treatments.models import Appointment, Plan, PlannedSession, WaitlistEntry

    things = {
        "sessions": [
            model_to_dict(a) for a in Appointment.objects.filter(patient=other_patient).order_by("pk")
        ],
        "plans": [model_to_dict(p) for p in Plan.objects.filter(patient=other_patient).order_by("pk")],
        "visits": [
            model_to_dict(v, exclude=["areas"])
            for v in PlannedSession.objects.filter(plan__patient=other_patient).order_by("pk")
        ],
        "waitlist": [model_to_dict(w) for w in WaitlistEntry.objects.filter(patient=other_patient)],
    }
    return things


def test_another_patients_ids_answer_404_to_get_and_post_and_change_nothing(
    patient_client, patient, own, other_patient, others
):
    names = [name for name in portal_names() if name in ID_KINDS]
    assert {"portal:session", "portal:visit_book", "portal:session_move", "portal:session_cancel"} <= set(
        names
    )
    before, things = db_fingerprint(), _others_things(other_patient)
    wrong = []
    for name in names:
        url, unknown = portal_url(name, others), reverse(name, args=[999_999_999])
        data = _post_data(others, other_patient)
        for method, send in (
            ("GET", patient_client.get),
            ("POST", lambda u, d=data: patient_client.post(u, d)),
        ):
            response, nobodys = send(url), send(unknown)
            # 404 as for an id that exists for nobody; a method the URL never takes (a GET of a
            # POST-only action, a POST to a read-only page) is refused by method, whoever's id it is.
            by_method = response.status_code == 405 and method not in response["Allow"]
            if response.status_code != 404 and not by_method:
                wrong.append(f"{method} {name} {url}: {response.status_code}")
            if response.status_code != nobodys.status_code:
                wrong.append(f"{method} {name}: {response.status_code}, an unknown id {nobodys.status_code}")
            page = response.content.decode(errors="replace")
            if OTHER["first_name"] in page or OTHER["last_name"] in page:
                wrong.append(f"{method} {name}: the other patient's name in the answer")
    assert not wrong, "\n".join(wrong)
    assert db_fingerprint() == before
    assert _others_things(other_patient) == things
    assert not AccessLogEntry.objects.filter(patient_id=other_patient.pk).exists()


def test_the_same_requests_on_the_patients_own_ids_reach_the_page(patient_client, own):
    """The 404s above come from whose the object is: the patient's own ids open the same pages
    (a POST-only URL answers 405 to a GET)."""
    wrong = []
    for name in portal_names():
        if name not in ID_KINDS:
            continue
        status = patient_client.get(portal_url(name, own)).status_code
        if status not in (200, 302, 405):
            wrong.append(f"{name}: {status}")
    assert not wrong, "\n".join(wrong)


def test_a_member_of_staff_gets_404_for_every_portal_id(clinician_client, own):
    for name in portal_names():
        if name in ID_KINDS:
            assert clinician_client.get(portal_url(name, own)).status_code == 404, name
