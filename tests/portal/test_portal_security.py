"""The staff pages' security bar, held by the portal for patient users (issue 17): refused on every
staff URL and the API, the strict CSP on every portal page, no portal POST without a CSRF token, an
access-log row for each look at the patient's data, and no staff-only text or other patient on any
portal page. Another patient's ids: tests/portal/test_portal_id_tampering.py."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.access_log import LOGGED_VIEWS
from clinic.models import AccessLogEntry
from patients.models import IntakeSubmission, Patient, PortalAccount
from tests import factories
from tests.clinic.test_permission_matrix import app_patterns, documented, outcome, url_for
from tests.clinic.test_url_access import all_urls
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db

# The sign-in pages: no patient data, open to anyone (the link answers only to its token).
SIGN_IN = {"portal:start", "portal:link", "portal:logout"}
# How a portal URL's id is made: the kind of object it names (test_portal_id_tampering.py fails for
# a portal URL with an id that is not here).
ID_KINDS = {
    "portal:session": "session",
    "portal:session_move": "session",
    "portal:session_cancel": "session",
    "portal:previsit": "session",
    "portal:visit_book": "planned",
    "portal:visit_waitlist": "planned",
    "portal:consent": "plan",
}
# Staff-only or clinical words, each where staff keep it; none may reach a portal page.
MARKS = {
    "desk_note": "PMRK-DESKNOTE-11",
    "other_allergies": "PMRK-ALLERGY-12",
    "condition_notes": "PMRK-CONDITION-13",
    "concern_note": "PMRK-CONCERN-14",
    "clearance_reason": "PMRK-CLEARANCE-15",
    "plan_item_reason": "PMRK-ITEMREASON-16",
    "plan_flag": "PMRK-FLAG-17",
    "plan_close_reason": "PMRK-CLOSE-18",
    "interval_override_reason": "PMRK-OVERRIDE-19",
    "record_notes": "PMRK-RECORD-20",
    "stop_reason": "PMRK-STOP-21",
    "confirmation_reason": "PMRK-CONFIRM-22",
    "addendum_text": "PMRK-ADDENDUM-23",
    "addendum_reason": "PMRK-ADDREASON-24",
    "staff_cancel_reason": "PMRK-CANCEL-25",
    "time_off_reason": "PMRK-TIMEOFF-26",
    "reviewed_intake": "PMRK-REVIEWEDINTAKE-27",
}
OTHER = {"first_name": "Zebulon", "last_name": "Quarrington"}
OTHER_MARK = "PMRK-OTHERPATIENT-90"
# Rows the walks may write: who looked (the access log), sign-in state.
NOT_COUNTED = {"clinic.accesslogentry", "sessions.session"}


def db_fingerprint():
    """Rows per table, the history tables included: a save anywhere adds a history row."""
    counts = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in NOT_COUNTED or model._meta.app_label == "axes":
            continue
        counts[label] = model._default_manager.count()
    return counts


def _hour(hours: float):
    return (timezone.localtime() + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def make_objects(patient, *, hours_ahead: float, location_name: str):
    """A patient's own things a portal URL names: an accepted plan of three visits, the first booked
    `hours_ahead` from now (past the cancel notice, inside the pre-visit questions' window), a
    completed session weeks ago, and a plan waiting for the patient's consent where the model has it."""
    from treatments.models import Plan

    practitioner = factories.make_practitioner(factories.make_location(name=location_name))
    start = _hour(hours_ahead)
    plan = factories.make_accepted_plan(patient, start=start.date(), sessions=3)
    visits = list(plan.planned_sessions.order_by("visit"))
    session = factories.make_session(
        patient=patient, practitioner=practitioner, start=start, plan=plan, planned_session=visits[0]
    )
    past = factories.make_session(
        patient=patient, practitioner=practitioner, start=_hour(-24 * 30), status="completed"
    )
    awaiting = getattr(Plan.Status, "AWAITING_CONSENT", None)
    consent_plan = plan
    if awaiting is not None:
        # A newer version sent for the patient's signature (the factory makes every plan version 1).
        Plan.objects.filter(pk=plan.pk).update(version=99)
        consent_plan = factories.make_accepted_plan(patient, start=start.date() + timedelta(days=90))
        Plan.objects.filter(pk=consent_plan.pk).update(status=awaiting, version=2)
        Plan.objects.filter(pk=plan.pk).update(version=1)
    return {
        "session": session.pk,
        "planned": visits[1].pk,
        "plan": consent_plan.pk,
        "past": past.pk,
        "practitioner": practitioner,
        "start": start,
    }


@pytest.fixture
def patient():
    return factories.PatientFactory(first_name="Ines", last_name="Okafor")


@pytest.fixture
def other_patient():
    return factories.PatientFactory(**OTHER, notes=OTHER_MARK, other_allergies=OTHER_MARK)


@pytest.fixture
def own(patient):
    return make_objects(patient, hours_ahead=30, location_name="Own clinic")


@pytest.fixture
def others(other_patient):
    return make_objects(other_patient, hours_ahead=33, location_name="Other clinic")


def portal_names():
    return [name for name, _ in app_patterns() if name.startswith("portal:")]


def pages():
    """The portal's pages of the patient's data that exist (pre-visit and consent come with their slices)."""
    names = {
        "home",
        "session",
        "intake",
        "visit_book",
        "session_move",
        "session_cancel",
        "previsit",
        "consent",
    }
    return {f"portal:{name}" for name in names} & set(portal_names())


def portal_url(name, objects):
    """The URL of a portal page, naming `objects`' thing of the kind ID_KINDS gives it."""
    pattern = str(dict(app_patterns())[name])
    if "<int:pk>" in pattern:
        return reverse(name, args=[objects[ID_KINDS[name]]])
    if "<str:token>" in pattern:
        return reverse(name, args=["not-a-token"])
    return reverse(name)


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


# --- Staff URLs and the API --------------------------------------------------------------------

ACCOUNT_PAGES = {"password_change", "password_change_done", "two_factor_setup", "two_factor_verify"}
PUBLIC = {"login", "health", "intake_enter", "intake_done", "intake_fill"}
REFUSED = {"login", "401", "403", "404", "405"}


@pytest.mark.django_db(transaction=True)
def test_every_staff_url_and_the_api_refuse_a_patient_by_get_and_by_post(world, mailoutbox):
    """The walk of tests/clinic/test_permission_matrix.py as a signed-in patient, against real objects:
    each GET answers what an account without a role gets (docs/permissions.md), and each POST (CSRF
    checks off, so the view itself answers) is refused and writes nothing."""
    client = Client(raise_request_exception=False)
    sign_in(client, Patient.objects.get(pk=world["patient"]), mailoutbox)
    table = documented()
    wrong, refused = [], 0
    for name, _ in app_patterns():
        if name.startswith("portal:") or name == "dashboard" or name in PUBLIC or name == "logout":
            continue  # the dashboard sends a patient to the portal; logout would sign them out
        url = url_for(name, world)
        # A URL missing from the table fails test_every_app_url_is_in_the_table; here it is refused.
        expected = table.get(name, {}).get("no role")
        got = outcome(client.get(url))
        if got != expected and not (expected is None and got in REFUSED):
            wrong.append(f"GET {name}: {got}, an account without a role gets {expected}")
        if name in ACCOUNT_PAGES:
            continue  # the patient's own account (no password to change): no patient data
        before = db_fingerprint()
        if url.startswith("/api/"):
            posted = client.post(url, {}, content_type="application/json")
        else:
            posted = client.post(url, {"reason": "x", "status": "completed", "restore": "1"})
        got = outcome(posted)
        if got not in REFUSED:
            wrong.append(f"POST {name}: {got}")
        refused += got in REFUSED
        if db_fingerprint() != before:
            wrong.append(f"POST {name} wrote something")
    assert not wrong, "\n".join(wrong)
    assert refused >= 50  # every staff page and the API, not a walk that reached nothing
    assert client.get(reverse("portal:home")).status_code == 200, "still signed in: the walk was real"
    assert not AccessLogEntry.objects.exclude(kind="portal").exists()


def test_every_url_of_the_resolver_refuses_a_patient_the_admins_included(patient_client):
    """test_url_access's walk (every pattern, sample ids): a patient gets nothing but a refusal,
    or the few pages an account without a role may open, which show no patient data."""
    open_to_accounts = {name for name, row in documented().items() if row["no role"] == "ok"}
    wrong = []
    for name, url in all_urls():
        if name.startswith("portal:") or name in {"dashboard", "admin:login"} or name in open_to_accounts:
            continue
        response = patient_client.get(url)
        if outcome(response) not in REFUSED and response["Location"] != reverse("admin:index"):
            wrong.append(f"{name} {url}: {response.status_code}")
        elif response.status_code in (301, 302):
            location = response["Location"]
            # The admin's logout sends a non-member of staff to the admin's index, which asks to log in.
            if "/login/" not in location and location != reverse("admin:index"):
                wrong.append(f"{name} {url}: sent to {location}")
    assert outcome(patient_client.get(reverse("admin:index"))) == "login"
    assert not wrong, "\n".join(wrong)
    assert patient_client.get(reverse("dashboard"))["Location"] == reverse("portal:home")


# --- CSP and CSRF ------------------------------------------------------------------------------

INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def _strict_policy(response, where):
    policy = response.get("Content-Security-Policy", "")
    problems = []
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        if directive not in policy:
            problems.append(f"{where}: no {directive!r} in {policy!r}")
    if "unsafe-inline" in policy or "unsafe-eval" in policy:
        problems.append(f"{where}: {policy!r}")
    return problems


def test_every_portal_page_sends_the_strict_content_security_policy(patient_client, own, others):
    problems, shown = [], set()
    for name in portal_names():
        client = Client() if name in SIGN_IN - {"portal:logout"} else patient_client
        response = client.get(portal_url(name, own))
        problems += _strict_policy(response, name)
        if response.status_code == 200:
            shown.add(name)
            page = _body(response)
            problems += [f"{name}: inline {m.group(0)!r}" for m in INLINE.finditer(page)]
            for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", page, re.DOTALL | re.I):
                if "csrfmiddlewaretoken" not in form:
                    problems.append(f"{name}: a POST form without a CSRF token")
        assert response["X-Frame-Options"] == "DENY"
    # Answers that are not pages hold to it too.
    problems += _strict_policy(patient_client.get(reverse("portal:session", args=[others["session"]])), "404")
    problems += _strict_policy(patient_client.post(reverse("portal:intake"), {"date_rosacea": "x"}), "400")
    assert not problems, "\n".join(problems)
    assert {"portal:start", *pages()} <= shown


def test_every_portal_post_is_refused_without_a_csrf_token(patient_client, patient, own):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = patient_client.cookies
    anonymous = Client(enforce_csrf_checks=True)
    data = {
        "slot": f"{(own['start'] + timedelta(days=1)).isoformat()}@{own['practitioner'].pk}",
        "version": "",
        "yes_rosacea": "on",
        "contact": patient.email,
        "birth_date": patient.date_of_birth.isoformat(),
        "typed_name": f"{patient.first_name} {patient.last_name}",
        "agree": "on",
        "new_medications": "none",
    }
    before = db_fingerprint()
    answers = {}
    for name in portal_names():
        client = anonymous if name in {"portal:start", "portal:link"} else strict
        answers[name] = client.post(portal_url(name, own), data).status_code
    assert answers == dict.fromkeys(answers, 403), answers
    assert db_fingerprint() == before
    # The same session with its token gets through: the refusals were the CSRF check's.
    home = strict.get(reverse("portal:home"))
    assert home.status_code == 200, "the refused logout left the patient signed in"
    token = strict.cookies["csrftoken"].value
    response = strict.post(reverse("portal:intake"), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and IntakeSubmission.objects.filter(patient=patient).count() == 1


# --- The access log ----------------------------------------------------------------------------


def test_each_look_at_a_portal_page_writes_one_access_log_row_for_the_patient(patient_client, patient, own):
    wrong, logged = [], set()
    for name in portal_names():
        if name in SIGN_IN:
            continue
        last = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = patient_client.get(portal_url(name, own), REMOTE_ADDR="10.9.9.9")
        if response.status_code in (404, 405):
            continue  # a POST-only URL, or a page another slice has not finished
        if LOGGED_VIEWS.get(name, ("",))[0] != AccessLogEntry.Kind.PORTAL:
            wrong.append(f"{name} is missing from clinic.access_log.LOGGED_VIEWS")
            continue
        rows = list(
            AccessLogEntry.objects.filter(pk__gt=last).values_list(
                "kind", "view_name", "patient_id", "ip_address"
            )
        )
        if rows != [("portal", name, patient.pk, "10.9.9.9")]:
            wrong.append(f"{name} ({response.status_code}) logged {rows}")
        logged.add(name)
    assert not wrong, "\n".join(wrong)
    assert pages() <= logged
    # The log names the patient by id only, and the portal user carries no name.
    user = PortalAccount.objects.get(patient=patient).user
    assert patient.first_name not in user.get_username() and patient.last_name not in user.get_username()


def test_a_refused_or_written_portal_request_logs_no_read(patient_client, patient, others):
    patient_client.get(reverse("portal:session", args=[others["session"]]))
    patient_client.post(reverse("portal:intake"), {"yes_rosacea": "on"})
    patient_client.post(reverse("portal:intake"), {"date_rosacea": "not a date"})
    assert not AccessLogEntry.objects.exists()


# --- Markers -----------------------------------------------------------------------------------


def _seed_marks(patient, own, other_patient, others):
    """A unique mark in every staff-only text of the patient's record, and the other patient's
    name and marks on their own things."""
    from patients.models import Concern
    from treatments.models import Addendum, Appointment, Clearance, Plan, SessionRecord, TimeOff

    Patient.objects.filter(pk=patient.pk).update(
        notes=MARKS["desk_note"], other_allergies=MARKS["other_allergies"]
    )
    factories.ConditionRecordFactory(patient=patient, notes=MARKS["condition_notes"])
    concern = factories.ConcernFactory(patient=patient)
    Concern.objects.filter(pk=concern.pk).update(note=MARKS["concern_note"])
    clinician = factories.clinician()
    Clearance.objects.create(
        patient=patient,
        treatment=factories.treatment("mn"),
        condition=factories.condition("rosacea"),
        reason=MARKS["clearance_reason"],
        cleared_by=clinician,
    )
    session = Appointment.objects.get(pk=own["session"])
    plan = Plan.objects.get(pk=session.plan_id)
    plan.chosen["items"][0]["reason"] = MARKS["plan_item_reason"]
    plan.chosen["items"][0]["option"]["flags"] = [{"text": MARKS["plan_flag"], "condition": "rosacea"}]
    plan.close_reason = MARKS["plan_close_reason"]
    plan.save(update_fields=["chosen", "close_reason"])
    Appointment.objects.filter(pk=own["session"]).update(
        interval_override_reason=MARKS["interval_override_reason"]
    )
    record = SessionRecord.objects.create(
        appointment_id=own["past"],
        notes=MARKS["record_notes"],
        stop_reasons=[MARKS["stop_reason"]],
        confirmations={
            "needle_depth_mm.cheeks": {"message": "Above 2 mm.", "reason": MARKS["confirmation_reason"]}
        },
    )
    Addendum.objects.create(
        record=record, text=MARKS["addendum_text"], reason=MARKS["addendum_reason"], author=clinician
    )
    cancelled = factories.make_session(
        patient=patient, practitioner=own["practitioner"], start=_hour(-24 * 10), status="cancelled"
    )
    Appointment.objects.filter(pk=cancelled.pk).update(cancel_reason=MARKS["staff_cancel_reason"])
    TimeOff.objects.create(
        practitioner=own["practitioner"],
        starts_at=own["start"] + timedelta(days=27),
        ends_at=own["start"] + timedelta(days=29),
        reason=MARKS["time_off_reason"],
    )
    reviewed = IntakeSubmission.objects.create(
        patient=patient,
        code="REVIEWED1",
        token="reviewed-intake-token",
        expires_at=timezone.now(),
        submitted_at=timezone.now(),
        status=IntakeSubmission.Status.REVIEWED,
        reviewed_at=timezone.now(),
        answers={"conditions": {}, "medications": MARKS["reviewed_intake"], "other_allergies": ""},
    )
    assert reviewed.pk
    # The other patient: name, marks, a pending intake and a record of their own.
    IntakeSubmission.objects.create(
        patient=other_patient,
        code="OTHERINT1",
        token="other-intake-token",
        expires_at=timezone.now(),
        submitted_at=timezone.now(),
        source=IntakeSubmission.Source.PORTAL,
        answers={"conditions": {}, "medications": OTHER_MARK, "other_allergies": OTHER_MARK},
    )
    factories.ConditionRecordFactory(patient=other_patient, notes=OTHER_MARK)
    return cancelled.pk


def test_no_portal_page_shows_staff_only_text_or_another_patient(
    patient_client, patient, own, other_patient, others
):
    cancelled = _seed_marks(patient, own, other_patient, others)
    urls = [portal_url(name, own) for name in portal_names() if name not in SIGN_IN]
    urls += [
        reverse("portal:session", args=[own["past"]]),
        reverse("portal:session", args=[cancelled]),
        reverse("portal:visit_book", args=[own["planned"]])
        + f"?day={(own['start'] + timedelta(days=28)).date()}",
    ]
    forbidden = {**MARKS, "other patient": OTHER_MARK, "other first name": OTHER["first_name"]}
    forbidden["other last name"] = OTHER["last_name"]
    seen, shown = [], 0
    for url in urls:
        response = patient_client.get(url)
        shown += response.status_code == 200
        page = _body(response)
        seen += [f"{label} in {url}" for label, mark in forbidden.items() if mark in page]
    # And what the patient's own actions answer: a refused time, a sent questionnaire.
    refused = patient_client.post(reverse("portal:visit_book", args=[own["planned"]]), {"slot": "not-a-time"})
    sent = patient_client.post(reverse("portal:intake"), {"yes_rosacea": "on"}, follow=True)
    for label, response in (("a refused booking", refused), ("a sent questionnaire", sent)):
        seen += [
            f"{mark_label} in {label}" for mark_label, mark in forbidden.items() if mark in _body(response)
        ]
    assert not seen, "\n".join(seen)
    assert shown >= 8, "the walk reached too few pages to mean anything"
    # The marks are really there, for a clinician.
    clinician = Client()
    clinician.force_login(factories.clinician())
    detail = _body(clinician.get(reverse("patients:detail", args=[patient.pk])))
    assert MARKS["condition_notes"] in detail and MARKS["other_allergies"] in detail
