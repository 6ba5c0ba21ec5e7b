"""The screening table's markup for a tablet: each question's text labels its "No" answer, the
answer cells say which answer they hold, and the stylesheet keeps the heads in view and colours a
chosen "yes" (walked in tests/browser/test_issue15_screening_tablet.py)."""

import re
from html import escape
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories
from treatments.selectors.session_context import session_context

pytestmark = pytest.mark.django_db


def test_each_questions_text_is_a_label_for_its_no_answer(clinician_client, clinician_user):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    session = factories.make_session(practitioner=practitioner, area_slugs=("cheeks",))
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    table = page[page.index('class="table table-sm') : page.index("</table>")]
    assert '<thead class="screening-head">' in table
    checklist = session_context(session).checklist
    for question in checklist:
        name = f"q_{question['condition']}"
        label = re.search(rf'<label class="screening-label" for="id_{name}_0">(.*?)</label>', table, re.S)
        assert label and label.group(1).strip().startswith(escape(question["question"])[:20])
        assert re.search(rf'<input type="radio" name="{name}" value="no"[^>]*id="id_{name}_0"', table)
        assert re.search(
            rf'<td class="[^"]*screening-yes[^"]*"><label class="screening-choice" for="id_{name}_1"', table
        )
    rows = re.findall(r'<tr class="(screening-question|screening-precaution)', table)
    assert rows.count("screening-question") == len(checklist)


def test_the_stylesheet_keeps_the_heads_in_view_and_colours_a_yes():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "clinic.css").read_text()
    block = css[css.index("Screening on a tablet") : css.index("end screening on a tablet")]
    assert re.search(r"\.screening-head th \{[^}]*position: sticky; top: 0;", block)
    assert re.search(r"\.screening-label \{[^}]*min-height: 44px", block)
    assert ".screening-question:has(.screening-yes input:checked) > *" in block
    assert "--bs-danger-bg-subtle" in block and "--bs-warning-bg-subtle" in block
    # once "yes" is chosen, a tap on the text no longer answers "no"
    assert re.search(
        r"\.screening-question:has\(\.screening-yes input:checked\) \.screening-label \{ pointer-events: none;",
        block,
    )
