"""The screening table on a tablet (each answer cell is a label around its radio) and the link
from "consent missing" to the page that records the consent."""

import re

import pytest
from django.urls import reverse

from tests import factories
from treatments.selectors.session_context import session_context

pytestmark = pytest.mark.django_db


def _session(clinician_user, **kwargs):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    return factories.make_session(practitioner=practitioner, area_slugs=("cheeks",), **kwargs)


def _page(client, session):
    return client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()


def _post(session):
    context = session_context(session)
    data = {f"q_{q['condition']}": "no" for q in context.checklist}
    data.update({f"p_{flag['code']}": "yes" for flag in context.precautions})
    data.update({"consent_confirmed": "on", "photos_taken": "yes", "new_medications": ""})
    return data


def test_every_screening_radio_is_wrapped_in_a_label_that_fills_its_cell(clinician_client, clinician_user):
    session = _session(clinician_user)
    page = _page(clinician_client, session)
    table = page[page.index('class="table table-sm') : page.index("</table>")]
    cells = re.findall(r'<td class="[^"]*screening-cell[^"]*">(.*?)</td>', table, re.S)
    radios = re.findall(r'<input type="radio"', table)
    assert radios and len(cells) == len(radios)
    for cell in cells:
        assert re.fullmatch(
            r'\s*<label class="screening-choice"[^>]*>.*<input type="radio"[^>]*>.*</label>\s*', cell, re.S
        )
    # The label carries the question and the answer for a screen reader.
    first = session_context(session).checklist[0]
    assert re.search(rf'<span class="visually-hidden">{re.escape(first["question"][:20])}', table)


def test_the_css_makes_the_cell_a_44px_target_and_the_radio_24px():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "css" / "clinic.css").read_text()
    block = css[css.index("Screening on a tablet") :]
    assert "min-width: 44px" in block and "min-height: 44px" in block
    assert "width: 24px" in block and "height: 24px" in block


def test_consent_missing_links_to_the_page_that_records_it(clinician_client, clinician_user):
    session = _session(clinician_user, consent=False)
    page = _page(clinician_client, session)
    assert 'id="consent-missing"' in page
    assert reverse("patients:consent_create", args=[session.patient.pk]) in page


def test_a_refused_screening_for_missing_consent_links_to_it_beside_the_field(
    clinician_client, clinician_user
):
    session = _session(clinician_user, consent=False)
    response = clinician_client.post(
        reverse("treatments:record_screening", args=[session.pk]), _post(session)
    )
    body = response.content.decode()
    link = reverse("patients:consent_create", args=[session.patient.pk])
    assert body.count(f'href="{link}"') == 2
    assert "first, then screen again" in body


def test_no_consent_link_when_the_consent_is_on_file(clinician_client, clinician_user):
    session = _session(clinician_user)
    page = _page(clinician_client, session)
    assert 'id="consent-missing"' not in page
    assert reverse("patients:consent_create", args=[session.patient.pk]) not in page
