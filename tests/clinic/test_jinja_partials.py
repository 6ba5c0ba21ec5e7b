"""The {% jinja %} tag: Jinja2 partials inside Django templates escape, localise and link as the
Django templates they replaced did."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

from django.template import Context, Template
from django.urls import reverse

from clinic.http import url_for_pk
from clinic.jinja import _date


def render(source, **context):
    return Template("{% load clinic_tags %}" + source).render(Context(context))


def test_a_partial_escapes_what_it_is_given():
    days = [(date(2027, 1, 4), [])]
    html = render(
        '{% jinja "treatments/schedule/_week_days.html" days=days day_url=url location_id=loc %}',
        days=days,
        url='/schedule/"><script>',
        loc=1,
    )
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_url_maker_reaches_the_partial_uncalled():
    session = SimpleNamespace(
        pk=7,
        status="booked",
        can_move=True,
        starts_at=datetime(2027, 1, 4, 14, tzinfo=UTC),
        ends_at=datetime(2027, 1, 4, 15, tzinfo=UTC),
        patient=SimpleNamespace(full_name="<b>Ada</b>"),
        treatment=SimpleNamespace(name="Microneedling"),
        room=None,
    )
    rows = [{"time": session.starts_at, "cells": [{"item": session, "rowspan": 4}]}]
    html = render(
        '{% jinja "treatments/schedule/_day_rows.html" rows=rows by="practitioner" next="%2F" '
        "session_url=session_url move_url=move_url %}",
        rows=rows,
        session_url=url_for_pk("treatments:session"),
        move_url=url_for_pk("treatments:session_move"),
    )
    assert f'href="{reverse("treatments:session", args=[7])}"' in html
    assert f'data-move-url="{reverse("treatments:session_move", args=[7])}"' in html
    assert "09:00\u201310:00" in html and "&lt;b&gt;Ada&lt;/b&gt;" in html


def test_the_date_filter_shows_aware_times_in_the_clinics_zone():
    assert _date(datetime(2027, 1, 4, 14, 30, tzinfo=UTC), "H:i") == "09:30"
    assert _date(date(2027, 1, 4), "j M Y") == "4 Jan 2027"
    assert _date(None, "H:i") == ""
