"""Walk every URL pattern as an anonymous visitor: nothing but the login page and health answers."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories

# Public by design, and showing no patient data: the intake pages only ask for a code.
PUBLIC = {"login", "health", "admin:login", "intake_enter", "intake_done", "portal:start"}
SAMPLE_ARGS = {
    "int": "1",
    "slug": "x",
    "str": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "x",
}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", prefix + str(entry.pattern)


def _sample_url(pattern):
    url = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS.get(m.group(1) or "str", "x"), pattern)
    # Regex patterns (the admin's) become a plausible path.
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "1", url).replace("^", "").replace("$", "").replace("\\", "")
    return "/" + url.lstrip("/")


def all_urls():
    return sorted({(name, _sample_url(p)) for name, p in _walk(get_resolver().url_patterns)})


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), all_urls())
def test_anonymous_visitors_get_no_patient_data(client, name, url):
    if name in PUBLIC:
        pytest.skip("public by design")
    response = client.get(url)
    assert response.status_code in (301, 302, 401, 403, 404), f"{url} answered {response.status_code}"
    if response.status_code in (301, 302):
        # Staff pages send to the staff login; the patient portal's pages to its own sign-in.
        signin = reverse("portal:start") if name.startswith("portal:") else "login"
        assert signin in response["Location"], f"{url} redirected to {response['Location']}"


@pytest.mark.django_db
def test_walk_covers_the_app_urls():
    names = {name for name, _ in all_urls()}
    assert "dashboard" in names
    assert reverse("login")
    assert factories.UserFactory  # the walk runs with an empty database as well as a seeded one
