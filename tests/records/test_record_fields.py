"""The procedure form follows the catalog's record fields, which a clinic admin edits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from treatments.models import RecordField, SessionRecord
from treatments.selectors.session_context import session_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(clinician_user):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    return factories.make_session(practitioner=practitioner, area_slugs=("cheeks",))


def procedure_post(session, **changes):
    limits = session_context(session).limits
    data = {
        "device": "Pen 1",
        "needle_lot": "LOT-9",
        "needle_expiry": "2099-01-01",
        "passes": "8",
        "endpoint": "pinpoint_bleeding",
        "pain_score": "3",
        "erythema_grade": "1",
        "oedema_grade": "1",
        "notes": "",
    }
    data.update({f"depth_{area}": f"{b['min']}" for area, b in limits["needle_depth_mm"].items()})
    data.update(changes)
    return data


def _admin_form(row, **changes):
    data = {
        "treatment": row.treatment_id or "",
        "group": row.group_id or "",
        "key": row.key,
        "label": row.label,
        "kind": row.kind,
        "unit": row.unit,
        "order": row.order,
        "required": "on" if row.required else "",
        "min_value": row.min_value if row.min_value is not None else "",
        "max_value": row.max_value if row.max_value is not None else "",
        "max_length": row.max_length or "",
        "choices": "[]",
        "help_text": row.help_text,
        "safe_min": "",
        "safe_max": "",
        "linked_to": row.linked_to,
        "evidence": row.evidence,
        "sources": [s.pk for s in row.sources.all()],
        "note": row.note,
        "active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_an_admins_new_safe_maximum_makes_the_form_ask_for_a_reason(
    client, clinic_admin_client, admin_user_clinic, clinician_user, session
):
    factories.screen_clear(session)
    passes = RecordField.objects.get(key="passes", group__slug="microneedling_family")
    response = clinic_admin_client.post(
        reverse("admin:treatments_recordfield_change", args=[passes.pk]), _admin_form(passes, safe_max="6")
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    passes.refresh_from_db()
    assert passes.safe_max == 6 and passes.customized

    client.force_login(clinician_user)
    url = reverse("treatments:record_procedure", args=[session.pk])
    refused = client.post(url, procedure_post(session))
    assert refused.status_code == 400
    assert "Passes 8 is above the safe maximum of 6." in refused.content.decode()
    assert SessionRecord.objects.get(appointment=session).values == {}

    assert client.post(url, procedure_post(session, confirm_passes="Thick scars, agreed")).status_code == 302
    record = SessionRecord.objects.get(appointment=session)
    assert record.values["passes"] == 8
    assert record.confirmations["passes"]["reason"] == "Thick scars, agreed"


def test_without_a_safe_range_the_seeded_field_takes_any_accepted_value(clinician_client, session):
    factories.screen_clear(session)
    url = reverse("treatments:record_procedure", args=[session.pk])
    assert clinician_client.post(url, procedure_post(session)).status_code == 302
    assert SessionRecord.objects.get(appointment=session).values["passes"] == 8


def test_an_inactive_field_leaves_the_form(clinician_client, session):
    factories.screen_clear(session)
    RecordField.objects.filter(key="endpoint").update(active=False)
    RecordField.objects.get(key="passes", group__slug="microneedling_family").save()  # bumps the revision
    page = clinician_client.get(reverse("treatments:session_record", args=[session.pk])).content.decode()
    assert 'name="passes"' in page and 'name="endpoint"' not in page


def test_the_record_page_builds_the_patients_profile_once(clinician_client, session):
    factories.ConditionRecordFactory(
        patient=session.patient, condition=factories.condition("herpes_simplex_history")
    )
    url = reverse("treatments:session_record", args=[session.pk])
    clinician_client.get(url)  # the catalog is read and cached on the first request
    with CaptureQueriesContext(connection) as queries:
        assert clinician_client.get(url).status_code == 200
    # The profile reads the patient's open concerns, history and clearances: each once, for the
    # alerts, the verdict of the day, the screening checklist and its precautions together.
    profile_tables = (
        'FROM "patients_concern"',
        'FROM "patients_conditionrecord"',
        'FROM "treatments_clearance"',
    )
    for table in profile_tables:
        assert sum(table in q["sql"] for q in queries.captured_queries) == 1, table


def test_a_screening_post_builds_the_profile_once(clinician_client, session):
    from tests.records.test_record_views import screening_post

    url = reverse("treatments:record_screening", args=[session.pk])
    data = screening_post(session)
    clinician_client.get(reverse("treatments:session_record", args=[session.pk]))
    with CaptureQueriesContext(connection) as queries:
        assert clinician_client.post(url, data).status_code == 302
    assert sum('FROM "patients_conditionrecord"' in q["sql"] for q in queries.captured_queries) == 1
