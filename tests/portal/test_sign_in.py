"""Signing in to the patient portal by a link sent by e-mail or text message (issue 17)."""

import hashlib
import threading
from datetime import date, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients import portal_services as services
from patients.models import PortalAccount, PortalLink
from tests import factories
from tests.portal.helpers import ask_link, link_path, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return factories.PatientFactory(
        first_name="Mara",
        email="mara.quist@example.com",
        phone="+1 212 555 0142",
        date_of_birth=date(1990, 4, 23),
    )


def test_a_link_is_sent_by_email_and_only_its_hash_is_kept(client, patient, mailoutbox):
    response = ask_link(client, "  Mara.Quist@Example.com ")
    assert response.status_code == 200
    assert services.PORTAL_SENT in response.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["mara.quist@example.com"]
    path = link_path(mailoutbox[0].body)
    token = path.rstrip("/").rsplit("/", 1)[1]
    link = PortalLink.objects.get()
    assert link.patient == patient and link.channel == "email"
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in link.token_hash and len(token) >= 43
    assert link.expires_at - link.created_at == timedelta(minutes=15)
    assert link.used_at is None


def test_a_link_is_sent_by_text_message_to_the_phone_on_file(client, patient, sms_outbox, mailoutbox):
    ask_link(client, "(212) 555-0142")
    assert not mailoutbox
    assert [message.to for message in sms_outbox] == ["+1 212 555 0142"]
    assert "Mara" not in sms_outbox[0].body
    assert PortalLink.objects.get().channel == "sms"
    path = link_path(sms_outbox[0].body)
    response = client.post(path, {"birth_date": "1990-04-23"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")


def test_the_answer_is_the_same_for_known_and_unknown_details(patient, mailoutbox, sms_outbox):
    known = ask_link(Client(), patient.email)
    unknown = ask_link(Client(), "nobody@example.com")
    known_phone = ask_link(Client(), patient.phone)
    unknown_phone = ask_link(Client(), "+1 999 555 0000")
    assert known.status_code == unknown.status_code == known_phone.status_code == unknown_phone.status_code
    assert known.content == unknown.content == known_phone.content == unknown_phone.content
    assert len(mailoutbox) == 1 and len(sms_outbox) == 1


def test_an_archived_patient_gets_no_link(client, patient, mailoutbox):
    type(patient).objects.filter(pk=patient.pk).update(archived_at=timezone.now())
    response = ask_link(client, patient.email)
    assert services.PORTAL_SENT in response.content.decode() and not mailoutbox


def test_what_is_neither_an_address_nor_a_number_is_refused_and_kept(client):
    response = client.post(reverse("portal:start"), {"contact": "hello there"})
    page = response.content.decode()
    assert response.status_code == 200
    assert services.PORTAL_CONTACT_INVALID in page and 'value="hello there"' in page


def test_the_right_birth_date_signs_the_patient_in_with_a_short_session(client, patient, mailoutbox):
    sign_in(client, patient, mailoutbox)
    account = PortalAccount.objects.get(patient=patient)
    user = account.user
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.get_expiry_age() == 1800
    assert not user.is_staff and not user.is_superuser and not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["patient"]
    assert patient.first_name not in user.username and patient.last_name not in user.username
    assert PortalLink.objects.get().used_at is not None
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_second_sign_in_reuses_the_account(patient, mailoutbox):
    sign_in(Client(), patient, mailoutbox)
    sign_in(Client(), patient, mailoutbox)
    assert PortalAccount.objects.count() == 1


def test_a_wrong_birth_date_is_refused_with_what_was_typed_kept(client, patient, mailoutbox):
    ask_link(client, patient.email)
    path = link_path(mailoutbox[0].body)
    response = client.post(path, {"birth_date": "1991-04-23"})
    page = response.content.decode()
    assert response.status_code == 200
    assert services.PORTAL_WRONG_BIRTH_DATE in page and 'value="1991-04-23"' in page
    assert "4 more tries on this link." in page
    assert SESSION_KEY not in client.session
    assert PortalLink.objects.get().failed_attempts == 1


@pytest.mark.parametrize("typed", ["", "not a date", "1990-02-31", "99999-01-01", "\u202e1990"])
def test_a_birth_date_that_is_not_a_date_is_a_message_not_an_error(client, patient, mailoutbox, typed):
    ask_link(client, patient.email)
    response = client.post(link_path(mailoutbox[0].body), {"birth_date": typed})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert PortalLink.objects.get().failed_attempts == 0


def test_five_wrong_birth_dates_burn_the_link(client, patient, mailoutbox):
    ask_link(client, patient.email)
    path = link_path(mailoutbox[0].body)
    pages = [client.post(path, {"birth_date": "2000-01-01"}) for _ in range(4)]
    assert [page.status_code for page in pages] == [200] * 4
    assert "3 more tries on this link." in pages[1].content.decode()
    assert "One more try on this link: after that, ask for a new one." in pages[3].content.decode()
    fifth = client.post(path, {"birth_date": "2000-01-01"})
    assert fifth.status_code == 410 and services.PORTAL_LINK_BURNT in fifth.content.decode()
    # Even the right date cannot use it now.
    right = client.post(path, {"birth_date": "1990-04-23"})
    assert right.status_code == 410 and SESSION_KEY not in client.session
    assert reverse("portal:start") in right.content.decode()


def test_a_link_works_once(patient, mailoutbox):
    ask_link(Client(), patient.email)
    path = link_path(mailoutbox[0].body)
    assert Client().post(path, {"birth_date": "1990-04-23"}).status_code == 302
    again = Client().post(path, {"birth_date": "1990-04-23"})
    assert again.status_code == 410 and services.PORTAL_LINK_USED in again.content.decode()
    opened = Client().get(path)
    assert opened.status_code == 410 and reverse("portal:start") in opened.content.decode()


def test_a_link_expires_after_the_set_minutes(patient, mailoutbox):
    sent_at = timezone.now()
    token = "fixed-token-for-the-clock-test"
    PortalLink.objects.create(
        patient=patient,
        token_hash=services.token_hash(token),
        channel="email",
        created_at=sent_at,
        expires_at=sent_at + timedelta(minutes=15),
    )
    just_before = sent_at + timedelta(minutes=14, seconds=59)
    account = services.portal_link_redeem(token=token, birth_date=patient.date_of_birth, now=just_before)
    assert account.patient == patient
    PortalLink.objects.update(used_at=None)
    with pytest.raises(services.ValidationError) as refused:
        services.portal_link_redeem(
            token=token, birth_date=patient.date_of_birth, now=sent_at + timedelta(minutes=15)
        )
    assert refused.value.code == "expired"


def test_an_expired_link_page_says_so_and_offers_a_new_one(client, patient, mailoutbox):
    ask_link(client, patient.email)
    PortalLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(link_path(mailoutbox[0].body))
    page = response.content.decode()
    assert response.status_code == 410 and services.PORTAL_LINK_EXPIRED in page
    assert reverse("portal:start") in page


@pytest.mark.parametrize("token", ["not-a-token", "x" * 300, "%E2%80%AE"])
def test_an_unknown_link_is_a_404_with_a_message(client, token):
    response = client.get(f"/portal/link/{token}/")
    assert response.status_code == 404
    assert services.PORTAL_LINK_UNKNOWN in response.content.decode()


def test_a_link_page_sends_no_referrer_to_other_sites_and_is_not_cached(client, patient, mailoutbox):
    ask_link(client, patient.email)
    response = client.get(link_path(mailoutbox[0].body), follow=True)
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert "Mara" not in response.content.decode()  # no name before the birth date


def test_at_most_three_links_per_patient_per_hour(patient, mailoutbox, sms_outbox):
    for contact in (patient.email, patient.phone, patient.email):
        ask_link(Client(), contact)
    assert len(mailoutbox) + len(sms_outbox) == 3
    fourth = ask_link(Client(), patient.phone)
    # Silent, as the answer must not tell that the details are a patient's.
    assert fourth.status_code == 200 and services.PORTAL_SENT in fourth.content.decode()
    assert len(mailoutbox) + len(sms_outbox) == 3
    assert PortalLink.objects.count() == 3


def test_an_hour_later_a_patient_can_have_links_again(patient):
    now = timezone.now()
    for _ in range(3):
        services.portal_link_send(
            contact=patient.email,
            client_address=None,
            now=now,
            link_url=lambda token: f"/portal/link/{token}/",
        )
    from django.core.cache import cache

    cache.clear()  # the per-contact counter is the cache's; this test is about the per-patient one
    later = now + timedelta(hours=1, seconds=1)
    sent = services.portal_link_send(
        contact=patient.email, client_address=None, now=later, link_url=lambda token: f"/portal/link/{token}/"
    )
    assert sent == 1


def test_too_many_requests_for_the_same_details_get_a_clear_message_known_or_not(patient, mailoutbox):
    answers = {}
    for contact in (patient.email, "nobody@example.com"):
        for _ in range(3):
            ask_link(Client(), contact, address=f"10.0.1.{len(answers)}")
        answers[contact] = ask_link(Client(), contact, address=f"10.0.1.{len(answers)}")
    known, unknown = answers.values()
    assert services.PORTAL_TOO_MANY_FOR_CONTACT in known.content.decode()
    assert services.PORTAL_TOO_MANY_FOR_CONTACT in unknown.content.decode()
    assert known.status_code == unknown.status_code == 200


def test_too_many_requests_from_one_address_get_a_clear_message(client, patient, mailoutbox):
    for n in range(services.REQUESTS_PER_ADDRESS):
        response = ask_link(client, f"someone{n}@example.com", address="10.9.9.9")
        assert services.PORTAL_SENT in response.content.decode()
    refused = ask_link(client, patient.email, address="10.9.9.9")
    page = refused.content.decode()
    assert services.PORTAL_TOO_MANY_FROM_ADDRESS in page and patient.email in page  # typed text kept
    assert not mailoutbox
    other = ask_link(Client(), patient.email, address="10.9.9.10")
    assert services.PORTAL_SENT in other.content.decode() and len(mailoutbox) == 1


def test_a_failing_mail_server_answers_the_same_page(client, patient, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError(f"cannot reach the server for {patient.email}")

    monkeypatch.setattr(services, "send_mail", broken)
    response = ask_link(client, patient.email)
    assert response.status_code == 200 and services.PORTAL_SENT in response.content.decode()
    assert patient.email not in caplog.text and "ConnectionRefusedError" in caplog.text


def test_a_signed_in_patient_opening_the_portal_goes_to_their_page(client, patient, mailoutbox):
    sign_in(client, patient, mailoutbox)
    response = client.get(reverse("portal:start"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")


def test_sign_out_is_a_post_and_ends_the_session(client, patient, mailoutbox):
    sign_in(client, patient, mailoutbox)
    assert client.get(reverse("portal:logout")).status_code == 405
    response = client.post(reverse("portal:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:start")
    assert SESSION_KEY not in client.session
    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:start")


def test_the_forms_need_a_csrf_token(patient, mailoutbox):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("portal:start"), {"contact": patient.email}).status_code == 403
    ask_link(Client(), patient.email)
    path = link_path(mailoutbox[0].body)
    assert strict.post(path, {"birth_date": "1990-04-23"}).status_code == 403
    page = strict.get(reverse("portal:start")).content.decode()
    assert "csrfmiddlewaretoken" in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_posting_one_link_at_once_sign_in_only_once(patient):
    now = timezone.now()
    token = "two-tabs-token"
    PortalLink.objects.create(
        patient=patient,
        token_hash=services.token_hash(token),
        channel="email",
        created_at=now,
        expires_at=now + timedelta(minutes=15),
    )
    results: list[str] = []
    barrier = threading.Barrier(2)

    def tab():
        try:
            barrier.wait()
            services.portal_link_redeem(token=token, birth_date=patient.date_of_birth, now=now)
            results.append("signed in")
        except services.ValidationError as error:
            results.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["signed in", "used"]


def test_opening_a_link_moves_its_token_out_of_the_address(client, patient, mailoutbox):
    ask_link(client, patient.email)
    path = link_path(mailoutbox[0].body)
    opened = client.get(path)
    confirm = reverse("portal:link", args=["confirm"])
    assert opened.status_code == 302 and opened["Location"] == confirm
    page = client.get(confirm)
    assert page.status_code == 200 and path.split("/")[-2] not in page.content.decode()
    signed_in = client.post(confirm, {"birth_date": patient.date_of_birth.isoformat()})
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("portal:home")
    assert "portal_link_token" not in client.session
    # Another browser without the token in its session has nothing to confirm.
    assert Client().get(confirm).status_code == 404
