"""Shared steps of the portal tests: ask for a link and read it back from an outbox."""

import re

from django.test import Client
from django.urls import reverse

LINK = re.compile(r"https?://[^/\s]+(/portal/link/[A-Za-z0-9_\-]+/)")


def ask_link(client: Client, contact: str, address: str = "10.0.0.1"):
    return client.post(reverse("portal:start"), {"contact": contact}, REMOTE_ADDR=address)


def link_path(text: str) -> str:
    match = LINK.search(text)
    assert match, "no sign-in link in the message"
    return match.group(1)


def sign_in(client: Client, patient, mailoutbox) -> None:
    """The whole sign-in by e-mail: ask, open, confirm the birth date."""
    ask_link(client, patient.email)
    path = link_path(mailoutbox[-1].body)
    response = client.post(path, {"birth_date": patient.date_of_birth.isoformat()})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
