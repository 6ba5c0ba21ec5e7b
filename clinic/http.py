"""Small request helpers shared by the apps' views."""

from collections.abc import Callable
from datetime import date

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str = "") -> str:
    """The `next` the request carries when it points inside this site, else `fallback`.

    `//evil.example` and `javascript:` pass a naive startswith("/") test; Django's own check does not.
    A path is required: redirect() would read a bare word ("inf") as a view name."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


def requested_day(request: HttpRequest) -> date:
    """The `?date=` a page was asked for; missing, unreadable or impossible (2027-13-45) is today."""
    try:
        return parse_date(request.GET.get("date", "")) or timezone.localdate()
    except ValueError:
        return timezone.localdate()


def url_for_pk(viewname: str) -> Callable[[int], str]:
    """reverse(viewname, args=[pk]) resolved once: a page of rows links each row without a
    reverse() per row (the URL pattern is read from Django, not written out here)."""
    marker = 2_147_483_647
    before, _, after = reverse(viewname, args=[marker]).partition(str(marker))

    def url(pk: int) -> str:
        return f"{before}{int(pk)}{after}"

    url.do_not_call_in_templates = True  # type: ignore[attr-defined]  # passed on to {% jinja %} as is
    return url
