"""The plan builder's "Send to the patient to sign" (issue 17, e-consent): the plan is stored as
accept would store it, waiting for the patient's consent; it is never booked while it waits, and a
newer plan replaces it."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic import sms
from patients.models import ConsentForm, PatientConsent, PortalLink
from patients.portal_services import token_hash
from tests import factories
from tests.factories import ConcernFactory, PatientFactory
from treatments.engine.plan_choices import ItemChoice, default_option_index
from treatments.models import Appointment, Plan
from treatments.selectors.plan_suggestions import current_catalog, suggest_for_patient
from treatments.services import booking, plans
from treatments.web.plan_views import NO_CONTACT
from treatments.web.waitlist_forms import unbooked_visits

pytestmark = pytest.mark.django_db

SEND = {"send_for_consent": "1"}


@pytest.fixture
def patient():
    patient = PatientFactory(fitzpatrick=2, date_of_birth=date(1990, 1, 1), email="p@example.com")
    ConcernFactory(patient=patient, areas=["cheeks"])
    return patient


def _url(patient):
    return reverse("treatments:plan_builder", args=[patient.pk])


def _as_shown(response, **extra):
    formset = response.context["formset"]
    current = response.context["current_plan"]
    data = {"basis": formset.basis, "replaces": current.pk if current else ""}
    data.update({formset.add_prefix(name): value for name, value in formset.management_form.initial.items()})
    for form in formset:
        data[form.add_prefix("option")] = form.selected
        data[form.add_prefix("acknowledged")] = "on"
    data.update(extra)
    return data


def _send(client, patient, **extra):
    return client.post(_url(patient), _as_shown(client.get(_url(patient)), **SEND, **extra))


def _accept(client, patient):
    return client.post(_url(patient), _as_shown(client.get(_url(patient))))


def _sign_on_paper(patient):
    for form in ConsentForm.objects.filter(active=True):
        PatientConsent.objects.create(patient=patient, form=form, signed_on=date(2026, 11, 1))


def _statuses(patient):
    return list(Plan.objects.filter(patient=patient).order_by("version").values_list("version", "status"))


def test_the_builder_offers_both_buttons(clinician_client, patient):
    page = clinician_client.get(_url(patient)).content.decode()
    assert ">Accept plan</button>" in page
    assert 'name="send_for_consent" value="1"' in page and ">Send to the patient to sign</button>" in page


def test_sending_stores_the_plan_waiting_without_a_consent_on_file(clinician_client, patient):
    response = _send(clinician_client, patient)
    plan = Plan.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:plan_detail", args=[plan.pk])
    assert plan.status == Plan.Status.AWAITING_CONSENT and plan.version == 1
    # Stored exactly as accept stores a plan: its rules and its planned sessions.
    assert plan.catalog_rules["protocols"] and plan.planned_sessions.exists()
    detail = clinician_client.get(response["Location"]).content.decode()
    assert (
        "sent to the patient to sign" in detail.lower() and "Waiting for the patient&#x27;s consent" in detail
    )


def test_accepting_still_needs_the_consents_on_file(clinician_client, patient):
    response = _accept(clinician_client, patient)
    assert "Record the signed consent" in response.content.decode()
    assert not Plan.objects.exists()


def test_sending_leaves_the_current_accepted_plan_as_it_is(clinician_client, patient):
    _sign_on_paper(patient)
    assert _accept(clinician_client, patient).status_code == 302
    assert _send(clinician_client, patient).status_code == 302
    v1, v2 = Plan.objects.filter(patient=patient).order_by("version")
    assert _statuses(patient) == [(1, "accepted"), (2, "awaiting")]
    assert v2.previous == v1


def test_a_newer_sent_plan_or_a_newly_accepted_one_replaces_the_waiting_plan(clinician_client, patient):
    assert _send(clinician_client, patient).status_code == 302
    assert _send(clinician_client, patient).status_code == 302
    assert _statuses(patient) == [(1, "superseded"), (2, "awaiting")]
    _sign_on_paper(patient)
    assert _accept(clinician_client, patient).status_code == 302
    assert _statuses(patient) == [(1, "superseded"), (2, "superseded"), (3, "accepted")]
    v1, v2, v3 = Plan.objects.filter(patient=patient).order_by("version")
    assert (v2.previous, v3.previous) == (v1, v2)
    # A waiting plan beside an accepted one: accepting a new version replaces both.
    assert _send(clinician_client, patient).status_code == 302
    assert _accept(clinician_client, patient).status_code == 302
    assert _statuses(patient)[-2:] == [(4, "superseded"), (5, "accepted")]
    assert Plan.objects.get(version=3, patient=patient).status == "superseded"


def test_the_plan_the_page_replaced_is_still_checked(clinician_client, patient):
    _sign_on_paper(patient)
    stale = clinician_client.get(_url(patient))
    assert _accept(clinician_client, patient).status_code == 302
    response = clinician_client.post(_url(patient), _as_shown(stale, **SEND))
    assert "Plan version 1 was accepted by" in response.content.decode()
    assert _statuses(patient) == [(1, "accepted")]


def test_the_service_flag_skips_the_consent_gate_only(patient):
    catalog = current_catalog()
    found = suggest_for_patient(patient, today=timezone.localdate(), catalog=catalog)
    choices = [
        ItemChoice(option_index=default_option_index(item.options), acknowledged=True)
        for item in found.suggestion.items
    ]
    kwargs = {
        "patient": patient,
        "today": timezone.localdate(),
        "profile": found.profile,
        "suggestion": found.suggestion,
        "choices": choices,
        "catalog": catalog,
        "by": factories.clinician(),
    }
    with pytest.raises(ValidationError):
        plans.plan_accept(**kwargs, replaces=None)
    sent = plans.plan_accept(**kwargs, replaces=None, awaiting_consent=True)
    assert sent.status == Plan.Status.AWAITING_CONSENT
    with pytest.raises(ValidationError):  # `replaces` is checked as for accepting
        plans.plan_accept(**kwargs, replaces=12345, awaiting_consent=True)


def test_a_patient_with_no_contact_cannot_be_sent_a_plan(clinician_client, patient):
    Plan.objects.all().delete()
    type(patient).objects.filter(pk=patient.pk).update(email="", phone="")
    page = clinician_client.get(_url(patient)).content.decode()
    assert "disabled" in page.split("Send to the patient to sign")[0].rsplit("<button", 1)[1]
    response = _send(clinician_client, patient)
    assert NO_CONTACT in response.content.decode()
    assert not Plan.objects.exists()


# --- Never bookable while it waits --------------------------------------------------------------


@pytest.fixture
def waiting(patient):
    plan = factories.make_accepted_plan(patient, start=timezone.localdate(), sessions=2)
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.AWAITING_CONSENT)
    plan.refresh_from_db()
    return plan


def test_a_waiting_plan_is_not_booked_by_the_desk(front_desk_client, waiting):
    response = front_desk_client.get(reverse("treatments:plan_book", args=[waiting.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:plan_detail", args=[waiting.pk])
    assert not unbooked_visits(waiting.patient).exists()  # nor offered for the waitlist


def test_the_patient_page_says_the_plan_waits_for_the_patients_consent(
    front_desk_client, clinician_client, waiting
):
    sent = timezone.localtime(waiting.accepted_at).date()
    for client in (front_desk_client, clinician_client):
        page = client.get(reverse("patients:detail", args=[waiting.patient_id])).content.decode()
        assert f"Waiting for the patient's consent (sent {sent:%Y-%m-%d})" in page
        assert reverse("treatments:plan_book", args=[waiting.pk]) not in page
        assert "Not bookable until the patient signs it" in page


def test_the_plan_detail_of_a_waiting_plan_offers_no_booking_and_no_close(clinician_client, waiting):
    page = clinician_client.get(reverse("treatments:plan_detail", args=[waiting.pk])).content.decode()
    assert "It cannot be booked until the patient signs its consent" in page
    assert reverse("treatments:plan_close", args=[waiting.pk]) not in page
    assert reverse("treatments:plan_book", args=[waiting.pk]) not in page


def test_the_builder_names_the_waiting_plan_it_would_replace(clinician_client, waiting):
    page = Client()
    page.force_login(factories.clinician())
    text = page.get(_url(waiting.patient)).content.decode()
    assert "Plan version 1</a> is waiting for the patient's consent" in text


# --- The patient is told ------------------------------------------------------------------------


def test_sending_mails_the_patient_a_link_that_lands_on_the_consent_page(
    clinician_client, patient, mailoutbox
):
    _send(clinician_client, patient)
    plan = Plan.objects.get(patient=patient)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["p@example.com"] and "ready to read and sign" in message.subject
    assert "Microneedling" not in message.body  # no treatment in an inbox
    link = PortalLink.objects.get(patient=patient)
    assert link.next_path == reverse("portal:consent", args=[plan.pk])
    assert link.expires_at - link.created_at == timedelta(hours=72)
    token = message.body.split("/portal/link/")[1].split("/")[0]
    assert link.token_hash == token_hash(token)


def test_a_patient_with_only_a_phone_gets_the_link_by_text_message(clinician_client, patient, settings):
    settings.SMS_BACKEND = "clinic.sms.LocmemBackend"
    sms.outbox.clear()
    patient.email = ""
    patient.phone = "+1 212 555 0100"
    patient.save()
    _send(clinician_client, patient)
    assert PortalLink.objects.get(patient=patient).channel == PortalLink.Channel.SMS
    assert [message.to for message in sms.outbox] == ["+1 212 555 0100"]
    assert "/portal/link/" in sms.outbox[0].body


def test_a_message_that_cannot_be_sent_keeps_the_plan_waiting_and_says_so(
    clinician_client, patient, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("treatments.services.consent.send_mail", refuse)
    response = _send(clinician_client, patient)
    page = clinician_client.get(response["Location"]).content.decode()
    assert "could not be sent" in page
    assert Plan.objects.get(patient=patient).status == Plan.Status.AWAITING_CONSENT
    assert not PortalLink.objects.filter(patient=patient).exists()  # nobody holds that link


# --- Nor booked by a typed-in address or another caller -----------------------------------------


def test_the_desk_booking_form_does_not_open_a_visit_of_a_waiting_plan(front_desk_client, waiting):
    visit = waiting.planned_sessions.first()
    url = reverse("treatments:book_session")
    response = front_desk_client.get(url, {"patient": waiting.patient_id, "planned_session": visit.pk})
    assert response.status_code == 404


def test_the_booking_service_refuses_a_visit_of_a_waiting_plan(waiting):
    location = factories.make_location()
    doctor = factories.make_practitioner(location)
    visit = waiting.planned_sessions.select_related("treatment").first()
    start = timezone.make_aware(datetime.combine(visit.earliest + timedelta(days=1), time(10)))
    with pytest.raises(ValidationError) as refused:
        booking.session_book(
            request=booking.BookingRequest(
                patient=waiting.patient,
                treatment=visit.treatment,
                areas=list(visit.areas.all()),
                practitioner=doctor,
                start=start,
                plan=waiting,
                planned_session=visit,
            ),
            by=factories.clinician(),
        )
    assert refused.value.messages == [booking.PLAN_AWAITS_CONSENT]
    assert not Appointment.objects.filter(plan=waiting).exists()
