"""Every HTML form of the app, fuzzed with hypothesis: no answer is a server error, and no script
posted into a field comes back unescaped, on the answer itself or on the object's pages after the
write (issue 13).

The forms are not listed by hand: each role's pages are opened against real objects (a patient with
history, concerns, an intake, an accepted plan with sessions to book, a waitlist entry and a freed
slot, sessions at each step of their record) and every `<form>` on them is parsed: fields, options,
hidden values, buttons, and fields placed outside their form (`form="id"`). Each form is then
posted by the role whose page has it: a valid post (the page's own values, its first choices, and
`valid` overrides where the page shows nothing) with up to three fields spoiled, each left out or
given hostile text: NUL bytes, very long strings, unicode, script and attribute-breaking payloads,
`javascript:` URLs, template syntax, impossible dates and times, numbers out of any range, files
that are not images. Every example runs in a savepoint rolled back afterwards, so each starts from
the same world; a write that succeeded is followed by a look at the page it redirects to and at the
object's pages, as their readers see them. Bounded by `MAX_EXAMPLES` per form, derandomised so that
a run is repeatable. Then each stored text field is given a script once, in a valid post, and must
come back as text.

A POST-only URL (405 in docs/permissions.md) that no page offers a form for fails the coverage test.
"""

import io
import os
import re
import traceback
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from markupsafe import escape as markup
from PIL import Image

from tests import factories

pytestmark = pytest.mark.django_db

# FUZZ_EXAMPLES=200 for a longer run (a nightly job, before a release).
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
FUZZ = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# Text a field may be given. Each payload has an unescaped form that must never reach a page.
PAYLOADS = [
    '<script>alert("fz1")</script>',
    '"><svg onload=alert("fz2")>',
    "'><img src=x onerror=alert('fz3')>",
    '</textarea><script>alert("fz4")</script>',
    "\" autofocus onfocus=\"alert('fz5')",
    "javascript:alert('fz6')",
    "{{ 'tplfz'|upper }}{% now 'Y' %}",
]
UNESCAPED = re.compile(
    r"<script>alert\(|<svg onload=|<img src=x onerror=|onfocus=\"alert\("
    r"|(?:href|src|action|formaction)\s*=\s*[\"']?\s*javascript:",
    re.IGNORECASE,
)
RENDERED_TEMPLATE = "TPLFZ"  # the template payload, evaluated instead of shown
EDGE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "é" * 1000,
    "\u202e\u200b\ufeff",
    "😀" * 50,
    "Ω≈ç√∫",
    "\r\n\t",
    "' OR 1=1 --",
    "%s%n%x",
    "../../etc/passwd",
    "NaN",
]
EDGE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "1900-01-01",
    "31/12/2026",
    "2026-11-22T25:61",
    "24:00",
    "23:59:60",
    "-1",
]
EDGE_NUMBERS = ["0", "-1", "1.5", "1e308", "-1e308", "9" * 40, str(2**63), str(2**31), "inf", "-0", "0x10"]
HOSTILE = st.one_of(
    st.sampled_from(PAYLOADS),
    st.sampled_from(EDGE_TEXT),
    st.sampled_from(EDGE_DATES),
    st.sampled_from(EDGE_NUMBERS),
    st.text(max_size=30),
)


def _png():
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(image, "PNG")
    return image.getvalue()


UPLOADS = st.sampled_from(
    [
        None,
        ("before.png", _png(), "image/png"),
        ("before.png", b"not an image", "image/png"),
        ("notes.txt", b"<script>alert(1)</script>", "text/plain"),
        ("empty.png", b"", "image/png"),
    ]
)


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or select, multiple, textarea
    value: str | list = ""  # as the page shows it (a list for a multiple select)
    options: list = field(default_factory=list)


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: dict = field(default_factory=dict)
    buttons: list = field(default_factory=list)


class FormParser(HTMLParser):
    """The forms of a page: each field with its value as shown and, for choices, its options. A
    field outside its form that names it (`form="id"`) belongs to that form, as in a browser."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms = []
        self.by_id = {}
        self.elsewhere = []  # (form id, kind, name, attrs) of fields placed outside their form
        self.form = None
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = {key: value if value is not None else "" for key, value in attrs}
        if tag == "form":
            action = urljoin(self.page, attrs.get("action") or self.page)
            self.form = Form(self.page, attrs.get("method", "get").lower(), action)
            self.forms.append(self.form)
            if attrs.get("id"):
                self.by_id[attrs["id"]] = self.form
            return
        if tag == "option" and self.select is not None:
            value = attrs.get("value")
            if value is not None:
                self.select.options.append(value)
                if "selected" in attrs:
                    self.select.value = (
                        [*self.select.value, value] if self.select.kind == "multiple" else value
                    )
            return
        if tag not in ("input", "button", "select", "textarea") or "name" not in attrs:
            return
        if attrs.get("form"):
            self.elsewhere.append((attrs["form"], tag, attrs))
            if tag in ("select", "textarea"):
                self.select = self.textarea = None
            return
        if self.form is not None:
            self.add(self.form, tag, attrs)

    def add(self, form, tag, attrs):
        name = attrs["name"]
        kind = attrs.get("type", "text" if tag == "input" else "submit").lower()
        if tag in ("input", "button") and kind in ("submit", "button", "image", "reset"):
            form.buttons.append((name, attrs.get("value", "")))
        elif tag == "input" and kind in ("checkbox", "radio"):
            entry = form.fields.setdefault(name, Field(name, kind))
            entry.options.append(attrs.get("value", "on"))
            if "checked" in attrs:
                entry.value = attrs.get("value", "on")
        elif tag == "input":
            form.fields[name] = Field(name, kind, attrs.get("value", ""))
        elif tag == "select":
            multiple = "multiple" in attrs
            self.select = form.fields[name] = Field(
                name, "multiple" if multiple else "select", [] if multiple else ""
            )
        elif tag == "textarea":
            self.textarea = form.fields[name] = Field(name, "textarea")

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def close(self):
        super().close()
        for form_id, tag, attrs in self.elsewhere:
            if form_id in self.by_id:
                self.add(self.by_id[form_id], tag, attrs)


def forms_on(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    parser = FormParser(url)
    parser.feed(response.content.decode())
    parser.close()
    return parser.forms


def url_name(url):
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


# Forms not fuzzed, and why.
NOT_FUZZED = {
    "logout": "takes no input; posting it signs the fuzzing client out",
    "portal:logout": "takes no input; posting it signs the fuzzing patient out",
}


@pytest.fixture
def world(settings):
    """Real objects for every form: a patient with history, a concern and a submitted intake, an
    accepted plan with sessions to book, and sessions at each step of their record."""
    from patients import services as patient_services
    from treatments.models import Appointment, SessionRecord, WaitlistEntry
    from treatments.selectors.availability import clinic_zone

    settings.REQUIRE_2FA = False
    settings.SMS_BACKEND = "clinic.sms.LocmemBackend"
    location = factories.make_location()
    clinician = factories.clinician(username="fuzz.clinician")
    practitioner = factories.make_practitioner(location, user=clinician)
    desk = factories.front_desk(username="fuzz.desk")
    patient = factories.PatientFactory(first_name="Fuzz", last_name="Patient")
    concern = factories.ConcernFactory(patient=patient)
    record = factories.ConditionRecordFactory(patient=patient)  # rosacea: a clearance to give
    plan = factories.make_accepted_plan(patient, start=timezone.localdate() + timedelta(days=7))
    now = timezone.now().replace(microsecond=0)
    soon = now + timedelta(minutes=10)
    desk_session = factories.make_session(patient=patient, practitioner=practitioner, start=soon)
    # The record's patient has nothing that stops a session at screening; a record is kept on the
    # session's day, so these sessions are today, with a practitioner of their own.
    treated = factories.PatientFactory(first_name="Fuzz", last_name="Treated")
    factories.ConcernFactory(patient=treated)
    recorder = factories.make_practitioner(location, user=factories.clinician(username="fuzz.recorder"))
    today = timezone.localdate()
    to_screen, in_progress, signed = (
        factories.make_session(
            patient=treated,
            practitioner=recorder,
            start=datetime.combine(today, time(hour, 30), tzinfo=clinic_zone()),
        )
        for hour in (0, 2, 4)
    )
    factories.screen_clear(in_progress)
    factories.screen_clear(signed)
    SessionRecord.objects.filter(appointment=signed).update(
        values={"needle_depth_mm": {"cheeks": 1.0}}, signed_at=now, signed_by=clinician
    )
    Appointment.objects.filter(pk=signed.pk).update(status=Appointment.Status.COMPLETED)
    # A patient waiting for an earlier slot, and a freed slot tomorrow that they fit.
    waiting = factories.PatientFactory(first_name="Fuzz", last_name="Waiting")
    factories.sign_consent(waiting, "mn")
    tomorrow = timezone.localdate() + timedelta(days=1)
    entry = WaitlistEntry.objects.create(
        patient=waiting,
        treatment=factories.treatment("mn"),
        earliest=tomorrow,
        latest=tomorrow + timedelta(days=10),
        added_by=desk,
    )
    entry.areas.set(factories.areas("cheeks"))
    freed = datetime.combine(tomorrow, time(10), tzinfo=clinic_zone())
    freed_slot = {
        "practitioner": practitioner.pk,
        "location": location.pk,
        "start": freed.isoformat(),
        "until": (freed + timedelta(hours=2)).isoformat(),
    }
    intake = patient_services.intake_start(patient=patient, by=desk, now=now)
    patient_services.intake_submit(intake=intake, answers={}, now=now)
    open_intake = patient_services.intake_start(patient=patient, by=desk, now=now)
    pk = patient.pk
    day = timezone.localdate() + timedelta(days=1)
    portal = _portal_world(practitioner, now=now)
    pages = {
        "front desk": [
            "/patients/",
            "/patients/new/",
            f"/patients/{pk}/",
            f"/patients/{pk}/edit/",
            f"/sessions/{desk_session.pk}/",
            f"/plans/{plan.pk}/",
            f"/plans/{plan.pk}/book/",
            f"/schedule/book/?{urlencode({'patient': pk, 'treatment': 'mn', 'areas': 'cheeks', 'day': day})}",
            "/schedule/",
            "/schedule/week/",
            "/waitlist/",
            f"/waitlist/offers/?{urlencode(freed_slot)}",
            f"/patients/{pk}/waitlist/",
            "/accounts/password/",
        ],
        "clinician": [
            f"/patients/{pk}/",
            f"/patients/{pk}/clinical/",
            f"/patients/{pk}/conditions/new/",
            f"/patients/{pk}/conditions/{record.pk}/",
            f"/patients/{pk}/concerns/new/",
            f"/patients/{pk}/concerns/{concern.pk}/",
            f"/patients/{pk}/consents/new/",
            f"/patients/{pk}/intake/{intake.pk}/review/",
            f"/patients/{pk}/plan/",
            f"/plans/{plan.pk}/",
            f"/sessions/{to_screen.pk}/record/",
            f"/sessions/{in_progress.pk}/record/",
            f"/sessions/{signed.pk}/record/",
            "/accounts/2fa/setup/",
        ],
        "anonymous": ["/accounts/login/", "/intake/", f"/intake/{open_intake.token}/", "/portal/"],
        **portal["pages"],
    }
    # Where a write shows what was written, and who looks: after each write that succeeded.
    desk_pages = [
        f"/patients/{pk}/",
        "/patients/?status=all",
        f"/sessions/{desk_session.pk}/",
        f"/plans/{plan.pk}/",
        "/schedule/",
        "/waitlist/",
    ]
    clinician_pages = [
        f"/patients/{pk}/",
        f"/patients/{pk}/history/",
        f"/patients/{pk}/plan/",
        f"/plans/{plan.pk}/",
        f"/sessions/{desk_session.pk}/",
        f"/sessions/{in_progress.pk}/record/",
        f"/sessions/{signed.pk}/record/",
        f"/sessions/{signed.pk}/aftercare/",
        f"/patients/{pk}/intake/{intake.pk}/review/",
    ]
    shown_on = {
        "front desk": [("front desk", page) for page in desk_pages],
        "clinician": [("clinician", page) for page in clinician_pages],
        # What a patient types on the tablet is read by a clinician.
        "anonymous": [("clinician", f"/patients/{pk}/intake/{open_intake.pk}/review/")],
        **portal["shown_on"],
    }
    # Values that make each form valid, where the page does not show them already: the fuzz then
    # spoils a few fields of a valid post, so that writes succeed and their pages are looked at.
    valid = {
        "patients:create": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "date_of_birth": "1990-01-02",
            "phone": "+1 212 555 0100",
            "email": "ada@example.com",
        },
        "patients:condition_create": {"since": "2025-01-01", "value": ""},
        "patients:condition_edit": {"value": ""},
        "patients:consent_create": {"treatment": "mn"},
        "treatments:clearance_create": {"reason": "Agreed with the prescriber"},
        "treatments:plan_close": {"reason": "Series finished"},
        "treatments:record_addendum": {"text": "Corrected the lot", "reason": "Typo"},
        "treatments:record_screening": {"consent_confirmed": "on"},
        "treatments:record_sign": {"aftercare_given": "on"},
        "treatments:session_cancel": {"reason": "The patient called"},
        "intake_enter": {"code": open_intake.code},
    }
    users = {"front desk": desk, "clinician": clinician, "anonymous": None, **portal["users"]}
    return {
        "pages": pages,
        "shown_on": shown_on,
        "valid": valid,
        "users": users,
        "desk_session": desk_session.pk,
    }


def _portal_world(practitioner, *, now):
    """Patients signed in to the portal, each with the pages of their forms: one with an accepted
    plan (visit 1 booked, visit 2 to book), a session within the pre-visit hours and an intake
    waiting for review; one with a plan to sign."""
    from patients import services as patient_services
    from patients.portal_services import portal_link_issue, portal_link_redeem
    from treatments.models import Plan

    def account_user(patient):
        token = portal_link_issue(
            patient=patient,
            channel="email",
            now=now,
            expires_at=now + timedelta(hours=1),
            next_path="/portal/home/",
        )
        return portal_link_redeem(token=token, birth_date=patient.date_of_birth, now=now).user

    booking = factories.PatientFactory(first_name="Fuzz", last_name="Portal")
    start = timezone.localdate() + timedelta(days=7)
    plan = factories.make_accepted_plan(booking, start=start)
    visit_1, visit_2 = plan.planned_sessions.order_by("visit")[:2]
    booked = factories.make_session(
        patient=booking,
        practitioner=practitioner,
        start=timezone.make_aware(datetime.combine(start, time(10))),
        plan=plan,
        planned_session=visit_1,
    )
    soon = factories.make_session(patient=booking, practitioner=practitioner, start=now + timedelta(hours=3))
    booking_user = account_user(booking)
    waiting, _ = patient_services.intake_submit_from_portal(
        patient=booking, answers={}, by=booking_user, now=now
    )
    signing = factories.PatientFactory(first_name="Fuzz", last_name="Signing")
    to_sign = factories.make_accepted_plan(signing, start=start)
    Plan.objects.filter(pk=to_sign.pk).update(status=Plan.Status.AWAITING_CONSENT)
    return {
        "users": {"patient": booking_user, "patient to sign": account_user(signing)},
        "pages": {
            "patient": [
                "/portal/home/",
                f"/portal/visits/{visit_2.pk}/book/",
                f"/portal/sessions/{booked.pk}/move/",
                f"/portal/sessions/{booked.pk}/cancel/",
                f"/portal/sessions/{soon.pk}/questions/",
                "/portal/intake/",
            ],
            "patient to sign": [f"/portal/plans/{to_sign.pk}/consent/"],
        },
        # What a patient writes is read by the patient and by a clinician.
        "shown_on": {
            "patient": [
                ("patient", "/portal/home/"),
                ("clinician", f"/sessions/{soon.pk}/record/"),
                ("clinician", f"/patients/{booking.pk}/intake/{waiting.pk}/review/"),
            ],
            "patient to sign": [
                ("patient to sign", "/portal/home/"),
                ("clinician", f"/patients/{signing.pk}/"),
            ],
        },
    }


def client_for(world, role):
    # Server errors raise, with their traceback, instead of answering 500.
    client = Client()
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    return client


def discover(world):
    """{(url name, method): (role, form)}: each form once, from the first role whose page has it."""
    found = {}
    for role, pages in world["pages"].items():
        client = client_for(world, role)
        for page in pages:
            for form in forms_on(client, page):
                name = url_name(form.action)
                key = (name, form.method)
                if name and not name.startswith("admin:") and key not in found:
                    found[key] = (role, form)
    return found


def valid_values(form, overrides):
    """A post the form should accept: the page's own values, the first choice of each empty
    choice, plausible numbers and dates, and `overrides`."""
    values = {}
    for name, spec in form.fields.items():
        if name == "csrfmiddlewaretoken":
            continue
        first = next((option for option in spec.options if option), "")
        if name in overrides:
            values[name] = overrides[name]
        elif spec.kind == "file":
            values[name] = ("before.png", _png(), "image/png")
        elif spec.kind == "multiple":
            values[name] = spec.value or ([first] if first else [])
        elif spec.kind in ("select", "radio"):
            values[name] = spec.value or first
        elif spec.kind == "checkbox":
            values[name] = spec.value or None
        elif spec.kind == "number":
            values[name] = spec.value or "1"
        elif spec.kind == "date":
            values[name] = spec.value or "2030-01-01"
        else:
            values[name] = spec.value
    return values


def hostile_values(spec):
    if spec.kind == "file":
        return UPLOADS
    if spec.kind == "multiple":
        options = st.sampled_from(spec.options) if spec.options else st.nothing()
        return st.one_of(st.lists(st.one_of(options, HOSTILE), max_size=3), st.none())
    return st.one_of(HOSTILE, st.none())  # None: the field is left out


def cases(form, overrides):
    """(data, button) to post: a valid post with up to three of its fields made hostile."""
    valid = valid_values(form, overrides)
    names = sorted(valid)
    buttons = [button for button in form.buttons if button[0]]

    @st.composite
    def case(draw):
        spoiled = draw(st.sets(st.sampled_from(names), max_size=min(3, len(names)))) if names else set()
        values = {
            name: draw(hostile_values(form.fields[name])) if name in spoiled else valid[name]
            for name in names
        }
        button = draw(st.sampled_from(buttons)) if buttons else None
        return post_data(values, button)

    return case()


def post_data(values, button):
    data = {}
    for name, value in values.items():
        if value is None:
            continue
        data[name] = SimpleUploadedFile(*value) if isinstance(value, tuple) else value
    if button:
        data[button[0]] = button[1]
    return data


def unescaped(response):
    if "html" not in response.get("Content-Type", ""):
        return []
    page = response.content.decode(errors="replace")
    found = set(UNESCAPED.findall(page))
    return sorted(found | ({RENDERED_TEMPLATE} if RENDERED_TEMPLATE in page else set()))


def send(client, form, data):
    if form.method == "post":
        return client.post(form.action, data)
    query = {k: v for k, v in data.items() if not isinstance(v, SimpleUploadedFile)}
    return client.get(form.action.split("?")[0], query)


def look(clients, role, response, shown_on):
    """After a write: the page it sent its author to, and the pages it shows on, as their readers
    see them: (url, response) for each."""
    target = response["Location"]
    pages = [(role, target)] if target.startswith("/") and role != "anonymous" else []
    for role, page in pages + shown_on:
        response = clients[role].get(page)
        assert response.status_code < 500, (page, response.status_code)
        yield page, response


def fuzz_form(clients, role, form, overrides, shown_on, statuses):
    """Post the form MAX_EXAMPLES times, noting the statuses answered; problems (a server error, an
    unescaped payload) are returned."""
    problems = []
    last = {}

    @FUZZ
    @given(data=cases(form, overrides))
    def post(data):
        last["data"] = data
        with transaction.atomic():
            response = send(clients[role], form, data)
            statuses.add(response.status_code)
            assert response.status_code < 500, response.status_code
            found = unescaped(response)
            if 300 <= response.status_code < 400:
                for page, shown in look(clients, role, response, shown_on):
                    found += [f"{match} on {page}" for match in unescaped(shown)]
            if found:
                problems.append(f"{form.method.upper()} {form.action} as {role}: {found}\n  sent {data!r}")
            transaction.set_rollback(True)

    try:
        post()
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)
        app_frames = [
            f"{frame.filename.split('/work/main/')[-1]}:{frame.lineno}"
            for frame in where
            if "/.venv/" not in frame.filename
        ]
        problems.append(
            f"{form.method.upper()} {form.action} as {role}: {type(error).__name__}: {error}\n"
            f"  sent {last.get('data')!r}\n  at {' > '.join(app_frames[-3:])}"
        )
    return problems


# The forms each role must have found: a page that stops offering one fails here.
EXPECTED = {
    ("patients:list", "post"),
    ("patients:create", "post"),
    ("patients:edit", "post"),
    ("patients:clinical_edit", "post"),
    ("patients:archive", "post"),
    ("patients:condition_create", "post"),
    ("patients:condition_edit", "post"),
    ("patients:concern_create", "post"),
    ("patients:concern_edit", "post"),
    ("patients:consent_create", "post"),
    ("patients:intake_start", "post"),
    ("patients:intake_review", "post"),
    ("treatments:plan_builder", "post"),
    ("treatments:clearance_create", "post"),
    ("treatments:plan_close", "post"),
    ("treatments:plan_book", "post"),
    ("treatments:book_session", "post"),
    ("treatments:book_session", "get"),
    ("treatments:session_status", "post"),
    ("treatments:session_move", "post"),
    ("treatments:session_cancel", "post"),
    ("treatments:record_screening", "post"),
    ("treatments:record_procedure", "post"),
    ("treatments:record_outcomes", "post"),
    ("treatments:record_photo", "post"),
    ("treatments:record_sign", "post"),
    ("treatments:record_addendum", "post"),
    ("treatments:waitlist_add", "post"),
    ("treatments:waitlist_remove", "post"),
    ("treatments:waitlist_book", "post"),
    ("treatments:calendar_day", "get"),
    ("treatments:calendar_week", "get"),
    ("login", "post"),
    ("password_change", "post"),
    ("two_factor_setup", "post"),
    ("intake_enter", "post"),
    ("intake_fill", "post"),
    ("portal:start", "post"),
    ("portal:visit_book", "get"),
    ("portal:visit_book", "post"),
    ("portal:session_move", "post"),
    ("portal:session_cancel", "post"),
    ("portal:previsit", "post"),
    ("portal:intake", "post"),
    ("portal:consent", "post"),
    ("portal:logout", "post"),
}


# Writes the fuzz must have made at least once (a redirect after the post).
WRITES = {
    "patients:create",
    "patients:edit",
    "patients:clinical_edit",
    "patients:condition_create",
    "patients:concern_create",
    "patients:consent_create",
    "treatments:session_cancel",
    "treatments:record_addendum",
    "treatments:record_screening",
    "intake_fill",
    "portal:session_cancel",
    "portal:previsit",
    "portal:intake",
}


def post_only_urls():
    """URL names docs/permissions.md lists as POST-only (405 to a GET) for a staff role."""
    table = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    names = set()
    for line in table.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and "405" in (cells[3], cells[4]) and not cells[0].startswith("api-"):
            names.add(cells[0])
    return names


def test_every_form_is_found_and_every_post_only_url_has_one(world):
    found = set(discover(world))
    missing = EXPECTED - found
    assert not missing, f"no page offered these forms: {sorted(missing)}"
    posted = {name for name, method in found if method == "post"}
    unfuzzed = post_only_urls() - posted - set(NOT_FUZZED)
    assert not unfuzzed, f"POST-only URLs without a form to fuzz: {sorted(unfuzzed)}"


def test_no_form_answers_a_server_error_or_shows_a_script(world):
    forms = discover(world)
    problems, statuses = [], {}
    clients = {role: client_for(world, role) for role in world["users"]}
    for (name, method), (role, form) in sorted(forms.items(), key=lambda item: str(item[0])):
        if name in NOT_FUZZED:
            continue
        seen = statuses[name, method] = set()
        overrides = world["valid"].get(name, {})
        problems += fuzz_form(clients, role, form, overrides, world["shown_on"][role], seen)
    assert not problems, "\n".join(problems)
    # The fuzz reached the writes, not only the refusals.
    wrote = {name for (name, method), seen in statuses.items() if method == "post" and 302 in seen}
    assert wrote >= WRITES, f"never written: {sorted(WRITES - wrote)}"


# Text fields whose value is stored and shown back: each gets a script, once, in a valid post.
STORED_AND_SHOWN = {
    ("patients:create", "notes"),
    ("patients:edit", "first_name"),
    ("patients:edit", "notes"),
    ("patients:clinical_edit", "other_allergies"),
    ("patients:condition_create", "notes"),
    ("patients:condition_edit", "notes"),
    ("patients:concern_create", "goal"),
    ("patients:concern_edit", "goal"),
    ("treatments:clearance_create", "reason"),
    ("treatments:plan_close", "reason"),
    ("treatments:session_cancel", "reason"),
    ("treatments:record_addendum", "text"),
    ("treatments:record_addendum", "reason"),
    ("intake_fill", "medications"),
    ("intake_fill", "anything_else"),
    ("portal:previsit", "new_medications"),
    ("portal:intake", "medications"),
}


def test_a_script_saved_in_a_text_field_is_shown_escaped(world):
    """Each text field of each form, given a script in an otherwise valid post: where the write
    succeeds, the object's pages show the script as text."""
    forms = discover(world)
    clients = {role: client_for(world, role) for role in world["users"]}
    problems, shown = [], set()
    for (name, method), (role, form) in sorted(forms.items(), key=lambda item: str(item[0])):
        if method != "post" or name in NOT_FUZZED:
            continue
        valid = valid_values(form, world["valid"].get(name, {}))
        for field_name, spec in form.fields.items():
            if spec.kind not in ("text", "textarea", "search"):
                continue
            script = f'"><script>alert("{field_name}")</script>'
            with transaction.atomic():
                response = send(clients[role], form, post_data({**valid, field_name: script}, None))
                assert response.status_code < 500, (name, field_name)
                found = unescaped(response)
                if 300 <= response.status_code < 400:
                    for page, page_response in look(clients, role, response, world["shown_on"][role]):
                        found += [f"{match} on {page}" for match in unescaped(page_response)]
                        # Django templates escape " as &quot;, the Jinja2 partials as &#34;.
                        if any(
                            form in page_response.content.decode()
                            for form in (escape(script), markup(script))
                        ):
                            shown.add((name, field_name))
                transaction.set_rollback(True)
            if found:
                problems.append(f"{name} {field_name}: {found}")
    assert not problems, "\n".join(problems)
    assert shown >= STORED_AND_SHOWN, f"not stored or not shown: {sorted(STORED_AND_SHOWN - shown)}"


@pytest.mark.parametrize("url", ["/sessions/{pk}/cancel/", "/sessions/{pk}/status/"])
def test_a_next_without_a_slash_is_not_a_server_error(world, url):
    client = Client(raise_request_exception=False)
    client.force_login(world["users"]["front desk"])
    data = {"reason": "The patient called", "status": "checked_in", "next": "inf"}
    response = client.post(url.format(pk=world["desk_session"]), data)
    assert response.status_code < 500
