"""E-consent (issue 17): the patient reads a plan version and its consent forms on the phone and
signs them; the clinician sees the signed consent at screening; a changed plan asks again."""

import base64
import hashlib
import io
import re
import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from clinic.models import AccessLogEntry
from patients.models import ConsentForm, PatientConsent
from tests import factories
from treatments.models import Plan, PlanConsent
from treatments.selectors.consent import consent_document
from treatments.selectors.plan_suggestions import current_catalog
from treatments.services import consent as service
from treatments.services.plans import missing_consents

pytestmark = pytest.mark.django_db


def signature_png(*, width=600, height=300, ink=True) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line(
            [(40, 200), (150, 80), (260, 220), (420, 90), (560, 180)], fill="black", width=4
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def awaiting_plan(patient, *, treatment_slug="mn", sessions=3):
    """A plan sent to the patient to sign, the patient's next version."""
    last = Plan.objects.filter(patient=patient).order_by("-version").values_list("version", flat=True).first()
    plan = factories.make_accepted_plan(
        factories.PatientFactory(),
        start=timezone.localdate() + timedelta(days=10),
        sessions=sessions,
        treatment_slug=treatment_slug,
    )
    Plan.objects.filter(pk=plan.pk).update(
        patient=patient, version=(last or 0) + 1, status=Plan.Status.AWAITING_CONSENT
    )
    plan.refresh_from_db()
    return plan


@pytest.fixture
def patient():
    return factories.PatientFactory(
        first_name="Lucia", last_name="Ferreira", date_of_birth=date(1992, 3, 14), notes="DESK-NOTE-MARK"
    )


def url(plan):
    return reverse("portal:consent", args=[plan.pk])


def post_data(page_response, **extra):
    form = page_response.context["form"]
    data = {
        "typed_name": "Lucia Ferreira",
        "signature": data_url(signature_png()),
        "agree": "on",
        "document_hash": form["document_hash"].value(),
    }
    data.update(extra)
    return data


# --- The page ----------------------------------------------------------------------------------


def test_the_page_shows_the_plan_in_plain_words_and_each_consent_form_of_its_treatments(
    patient_client, patient
):
    plan = awaiting_plan(patient, treatment_slug="mn_prp")
    response = patient_client.get(url(plan))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Your plan (version 1)" in page and "On the cheeks: 3 sessions, about 4 weeks apart." in page
    # The combination's own form and its components' forms, each with its active version and body.
    for slug in ("consent_microneedling_prp", "consent_microneedling", "consent_prp"):
        form = ConsentForm.objects.get(slug=slug, active=True)
        assert f"{form.title} (version {form.version})" in page
        assert form.body[:60] in page
    assert "signature_pad.umd.min.js" in page and "js/consent.js" in page
    assert "<script>" not in page and "style=" not in page  # the site's CSP: nothing inline
    assert "DESK-NOTE-MARK" not in page
    document = response.context["document"]
    assert [f.slug for f in document.forms] == [
        "consent_microneedling_prp",
        "consent_microneedling",
        "consent_prp",
    ]
    assert response.context["form"]["document_hash"].value() == document.digest
    assert AccessLogEntry.objects.filter(
        view_name="portal:consent", patient_id=patient.pk, kind="portal"
    ).exists()


def test_another_patients_plan_is_a_404_and_staff_get_404(
    patient_client, clinician_client, front_desk_client
):
    other = awaiting_plan(factories.PatientFactory(first_name="Other"))
    assert patient_client.get(url(other)).status_code == 404
    assert patient_client.post(url(other), {"typed_name": "x"}).status_code == 404
    assert patient_client.get(reverse("portal:consent", args=[999_999_999])).status_code == 404
    for client in (clinician_client, front_desk_client):
        assert client.get(url(other)).status_code == 404
    assert not PlanConsent.objects.exists()


def test_anonymous_visitors_are_sent_to_the_sign_in(client, patient):
    plan = awaiting_plan(patient)
    response = client.get(url(plan))
    assert response.status_code == 302 and response["Location"] == reverse("portal:start")


# --- Signing -----------------------------------------------------------------------------------


def test_signing_stores_the_consent_and_makes_the_plan_the_accepted_one(patient_client, patient):
    older = factories.make_accepted_plan(patient, start=timezone.localdate(), sessions=1)
    plan = awaiting_plan(patient)
    Plan.objects.filter(pk=plan.pk).update(previous=older)
    page = patient_client.get(url(plan))
    document = page.context["document"]
    before = timezone.now()
    response = patient_client.post(
        url(plan),
        post_data(page, typed_name="  lucia   FERREIRA "),
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Mobile Safari test",
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    consent = PlanConsent.objects.get(plan=plan)
    assert consent.patient == patient and consent.typed_name == "lucia FERREIRA"
    assert consent.document == document.text
    assert consent.document_hash == hashlib.sha256(document.text.encode()).hexdigest()
    assert consent.form_versions == [
        {"slug": "consent_microneedling", "version": "1", "title": "Microneedling consent"}
    ]
    assert consent.client_address == "203.0.113.9" and consent.user_agent == "Mobile Safari test"
    assert consent.signed_at >= before and consent.signed_by == patient.portal_account.user
    with consent.signature.open("rb") as handle:
        assert Image.open(handle).format == "PNG"
    assert re.fullmatch(r"signatures/[0-9a-f]{32}\.png", consent.signature.name)  # nothing of the patient
    plan.refresh_from_db()
    older.refresh_from_db()
    assert plan.status == Plan.Status.ACCEPTED and plan.accepted_at == consent.signed_at
    assert older.status == Plan.Status.SUPERSEDED
    # Home: the card is gone, the signed consent is named, and the plan can be booked.
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Your new plan is ready" not in home
    assert "Consent signed on" in home and "for plan version 2" in home
    assert reverse("portal:visit_book", args=[plan.planned_sessions.first().pk]) in home
    # The patient may read again what they signed.
    signed = patient_client.get(url(plan))
    assert (
        signed.status_code == 200 and "You signed this consent to plan version 2" in signed.content.decode()
    )


def test_the_home_page_asks_for_each_waiting_plan(patient_client, patient):
    plan = awaiting_plan(patient)
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Your new plan is ready: read and sign the consent" in home
    assert url(plan) in home
    # The rest of the page agrees: no "book from your plan below", no "no plan yet".
    assert (
        "You have no treatment plan yet" not in home
        and "Book your next visit from your plan below" not in home
    )
    assert "Your plan is waiting for your signature above" in home
    # A plan waiting for consent is not bookable from the portal.
    for planned in plan.planned_sessions.all():
        assert reverse("portal:visit_book", args=[planned.pk]) not in home
        assert patient_client.get(reverse("portal:visit_book", args=[planned.pk])).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("typed_name", "Lucia Fereira", "does not match the name the clinic has for you (Lucia Ferreira)"),
        ("typed_name", "", "Please type your full name"),
        ("signature", "", service.SIGNATURE_EMPTY),
        ("signature", "BLANK", service.SIGNATURE_EMPTY),
        ("signature", "data:image/png;base64,not-base64!!", service.SIGNATURE_UNREADABLE),
        ("signature", "data:image/jpeg;base64,AAAA", service.SIGNATURE_UNREADABLE),
        ("signature", "GIF", service.SIGNATURE_UNREADABLE),
        ("signature", "HUGE", service.SIGNATURE_UNREADABLE),
        ("agree", "", "Please tick the box"),
    ],
)
def test_a_wrong_name_an_empty_or_bad_drawing_or_no_agreement_is_refused_clearly(
    patient_client, patient, field, value, message
):
    plan = awaiting_plan(patient)
    page = patient_client.get(url(plan))
    if value == "BLANK":
        value = data_url(signature_png(ink=False))
    elif value == "GIF":
        out = io.BytesIO()
        Image.new("RGB", (300, 200)).save(out, "GIF")
        value = data_url(out.getvalue())
    elif value == "HUGE":
        value = data_url(signature_png(width=5000, height=300))
    data = post_data(page, **{field: value})
    if field == "agree":
        del data["agree"]
    response = patient_client.post(url(plan), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PlanConsent.objects.exists()
    plan.refresh_from_db()
    assert plan.status == Plan.Status.AWAITING_CONSENT


def test_a_good_signature_is_kept_when_only_the_name_was_wrong(patient_client, patient):
    plan = awaiting_plan(patient)
    page = patient_client.get(url(plan))
    drawn = data_url(signature_png())
    response = patient_client.post(url(plan), post_data(page, typed_name="Someone Else", signature=drawn))
    assert response.status_code == 400 and response.context["kept_signature"] == drawn


def test_a_document_changed_meanwhile_is_read_again(patient_client, patient):
    plan = awaiting_plan(patient)
    page = patient_client.get(url(plan))
    ConsentForm.objects.filter(slug="consent_microneedling", active=True).update(body="NEW-BODY-MARK risks.")
    response = patient_client.post(url(plan), post_data(page))
    body = response.content.decode()
    assert response.status_code == 409
    assert service.DOCUMENT_CHANGED in body and "NEW-BODY-MARK" in body
    assert 'value="Lucia Ferreira"' in body  # the name typed is kept; the new text is signed anew
    assert not PlanConsent.objects.exists()
    again = patient_client.post(url(plan), post_data(response))
    assert again.status_code == 302
    assert "NEW-BODY-MARK" in PlanConsent.objects.get().document


def test_a_plan_replaced_by_a_newer_version_cannot_be_signed(patient_client, patient):
    plan = awaiting_plan(patient)
    page = patient_client.get(url(plan))
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.SUPERSEDED)
    response = patient_client.post(url(plan), post_data(page))
    assert response.status_code == 409 and service.PLAN_REPLACED in response.content.decode()
    assert not PlanConsent.objects.exists()
    assert service.PLAN_REPLACED in patient_client.get(url(plan)).content.decode()


def test_signing_twice_says_it_is_signed_already(patient_client, patient):
    plan = awaiting_plan(patient)
    page = patient_client.get(url(plan))
    assert patient_client.post(url(plan), post_data(page)).status_code == 302
    response = patient_client.post(url(plan), post_data(page), follow=True)
    assert service.ALREADY_SIGNED in response.content.decode()
    assert PlanConsent.objects.count() == 1


def test_the_service_refuses_a_plan_a_newer_version_replaces(patient):
    plan = awaiting_plan(patient)
    document = consent_document(plan)
    awaiting_plan(patient, sessions=1)
    with pytest.raises(ValidationError) as refused:
        service.plan_consent_sign(
            plan=plan,
            typed_name="Lucia Ferreira",
            signature_png=signature_png(),
            shown_hash=document.digest,
            client_address="127.0.0.1",
            user_agent="",
            by=factories.UserFactory(),
            now=timezone.now(),
        )
    assert refused.value.messages == [service.PLAN_REPLACED]


def test_a_form_with_no_active_version_cannot_be_signed(patient_client, patient):
    plan = awaiting_plan(patient)
    ConsentForm.objects.filter(slug="consent_microneedling").update(active=False)
    page = patient_client.get(url(plan))
    assert "cannot be signed online yet" in page.content.decode()
    assert 'id="consent-form"' not in page.content.decode()


# --- What counts as consent --------------------------------------------------------------------


def _missing(patient, plan, slug="mn"):
    return missing_consents(
        patient=patient,
        treatments={slug},
        catalog_data=current_catalog().data,
        plan_id=plan.pk if plan else None,
    )


def _sign(plan):
    document = consent_document(plan)
    return service.plan_consent_sign(
        plan=plan,
        typed_name=f"{plan.patient.first_name} {plan.patient.last_name}",
        signature_png=signature_png(),
        shown_hash=document.digest,
        client_address="127.0.0.1",
        user_agent="test",
        by=factories.UserFactory(),
        now=timezone.now(),
    )


def test_an_online_consent_counts_for_its_plan_only_and_a_changed_plan_asks_again(patient):
    plan = awaiting_plan(patient)
    assert _missing(patient, plan)
    _sign(plan)
    assert _missing(patient, plan) == []
    assert _missing(patient, None)  # paper consents only: none
    # The clinician changes the plan: a new version, sent again, has no consent of its own.
    revised = awaiting_plan(patient, sessions=2)
    assert _missing(patient, revised) == [
        "Record the signed consent “Microneedling consent” before accepting a plan with Microneedling."
    ]


def test_a_changed_plan_asks_the_patient_again_and_its_sessions_have_no_consent_until_signed(
    patient_client, patient
):
    first = awaiting_plan(patient)
    _sign(first)
    revised = awaiting_plan(patient, sessions=2)  # the clinician sends version 2
    Plan.objects.filter(pk=first.pk).update(status=Plan.Status.SUPERSEDED)
    home = patient_client.get(reverse("portal:home")).content.decode()
    assert "Your new plan is ready: read and sign the consent" in home and url(revised) in home
    page = patient_client.get(url(revised))
    assert page.status_code == 200 and 'id="consent-form"' in page.content.decode()
    # Had the clinician accepted version 2 on paper terms without a paper consent, screening would ask.
    Plan.objects.filter(pk=revised.pk).update(status=Plan.Status.ACCEPTED)
    session = factories.make_session(
        patient=patient, plan=revised, planned_session=revised.planned_sessions.first(), consent=False
    )
    clinician = Client()
    clinician.force_login(session.practitioner.user)
    record = clinician.get(reverse("treatments:session_record", args=[session.pk]))
    assert record.context["consent_problems"] and record.context["plan_consent"] is None
    assert 'id="consent-missing"' in record.content.decode()


def test_a_revised_consent_form_asks_again_and_paper_consents_still_count(patient):
    plan = awaiting_plan(patient)
    _sign(plan)
    old = ConsentForm.objects.get(slug="consent_microneedling", active=True)
    old.active = False
    old.save()
    new = ConsentForm.objects.create(slug=old.slug, version="2", title=old.title, body=old.body + " More.")
    assert _missing(patient, plan)
    PatientConsent.objects.create(patient=patient, form=new, signed_on=timezone.localdate())
    assert _missing(patient, plan) == []


def test_two_tabs_signing_the_same_plan_one_after_the_other_store_one_consent(patient):
    plan = awaiting_plan(patient)
    _sign(plan)
    with pytest.raises(ValidationError) as refused:
        _sign(plan)
    assert refused.value.messages == [service.ALREADY_SIGNED]
    assert PlanConsent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_signing_at_once_store_one_consent(catalog):
    patient = factories.PatientFactory(first_name="Ana", last_name="Tabs")
    plan = awaiting_plan(patient)
    document = consent_document(plan)
    user = factories.UserFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def sign():
        try:
            barrier.wait()
            service.plan_consent_sign(
                plan=plan,
                typed_name="Ana Tabs",
                signature_png=signature_png(),
                shown_hash=document.digest,
                client_address="127.0.0.1",
                user_agent="tab",
                by=user,
                now=timezone.now(),
            )
            outcomes.append("signed")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["signed", service.ALREADY_SIGNED])
    assert PlanConsent.objects.filter(plan=plan).count() == 1
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.ACCEPTED


# --- The clinician sees it ---------------------------------------------------------------------


@pytest.fixture
def signed_session(patient):
    plan = awaiting_plan(patient)
    consent = _sign(plan)
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1))
    session = factories.make_session(
        patient=patient,
        practitioner=practitioner,
        plan=plan,
        planned_session=plan.planned_sessions.first(),
        consent=False,
    )
    return session, consent


def test_the_clinician_sees_the_signed_consent_at_screening(client, signed_session):
    session, consent = signed_session
    client.force_login(session.practitioner.user)
    response = client.get(reverse("treatments:session_record", args=[session.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Consent signed online by <strong>Lucia Ferreira</strong>" in page
    assert "for <a" in page and "plan version 1</a>" in page
    assert "Microneedling consent (version 1)" in page and consent.document_hash[:12] in page
    assert "127.0.0.1" in page
    assert reverse("treatments:plan_consent_signature", args=[session.plan_id]) in page
    assert reverse("treatments:plan_consent", args=[session.plan_id]) in page
    # The signed consent is the consent on file: screening asks for nothing more.
    assert response.context["consent_problems"] == []
    factories.screen_clear(session)


def test_the_signature_and_the_document_are_for_clinicians_only_and_logged(signed_session, front_desk_user):
    session, consent = signed_session
    client, front_desk_client = Client(), Client()
    front_desk_client.force_login(front_desk_user)
    signature = reverse("treatments:plan_consent_signature", args=[session.plan_id])
    document = reverse("treatments:plan_consent", args=[session.plan_id])
    client.force_login(session.practitioner.user)
    image = client.get(signature)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Cache-Control"] == "private, no-store"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    page = client.get(document)
    assert page.status_code == 200 and consent.document_hash in page.content.decode()
    assert "Microneedling consent" in page.content.decode()
    for url_ in (signature, document):
        assert front_desk_client.get(url_).status_code == 403
    assert (
        "Microneedling consent (version"
        not in front_desk_client.get(reverse("patients:detail", args=[session.patient_id])).content.decode()
    )
    assert client.get(reverse("treatments:plan_consent", args=[999_999])).status_code == 404
    logged = AccessLogEntry.objects.filter(patient_id=session.patient_id, user=session.practitioner.user)
    # Each look at the signature or at the document is in the access log (clinic/access_log.py).
    assert {"treatments:plan_consent", "treatments:plan_consent_signature"} <= set(
        logged.values_list("view_name", flat=True)
    )


def test_staff_see_on_the_patient_page_that_the_plan_was_signed_online(front_desk_client, signed_session):
    session, _ = signed_session
    page = front_desk_client.get(reverse("patients:detail", args=[session.patient_id])).content.decode()
    assert "Plan version 1 · signed online" in page
    assert reverse("treatments:plan_consent", args=[session.plan_id]) not in page
