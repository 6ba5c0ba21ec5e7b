"""Two clinicians edit the same session record before it is signed: the second save is refused,
naming who changed what and when, and keeps what they typed; under a row lock, so two saves at
once cannot both pass."""

import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from tests import factories
from treatments.models import SessionRecord
from treatments.selectors.session_context import session_context
from treatments.selectors.session_versions import record_version
from treatments.services import recording


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


def screening_post(session):
    context = session_context(session)
    data = {f"q_{q['condition']}": "no" for q in context.checklist}
    data.update({f"p_{flag['code']}": "yes" for flag in context.precautions})
    data.update({"consent_confirmed": "on", "photos_taken": "yes", "new_medications": ""})
    return data


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def opened_version(client, session):
    """The record version the procedure form carries when the page is opened."""
    page = client.get(reverse("treatments:session_record", args=[session.pk]))
    return page.context["procedure_form"]["seen_version"].value()


@pytest.fixture
def maya():
    return factories.clinician(first_name="Maya", last_name="Cole")


@pytest.fixture
def tom():
    return factories.clinician(first_name="Tom", last_name="Reed")


@pytest.fixture
def session(maya):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=maya)
    return factories.make_session(practitioner=practitioner, area_slugs=("cheeks",))


@pytest.fixture
def screened(session):
    factories.screen_clear(session)
    return session


@pytest.mark.django_db
def test_a_second_clinician_saving_over_a_newer_procedure_is_refused_with_who_when_and_what(
    screened, maya, tom
):
    url = reverse("treatments:record_procedure", args=[screened.pk])
    mayas, toms = signed_in(maya), signed_in(tom)
    mayas_version, toms_version = opened_version(mayas, screened), opened_version(toms, screened)
    assert mayas_version == toms_version

    saved = mayas.post(
        url, procedure_post(screened, notes="Mild pinpoint bleeding", seen_version=mayas_version)
    )
    assert saved.status_code == 302
    refused = toms.post(
        url, procedure_post(screened, passes="6", notes="Tom typed this", seen_version=toms_version)
    )

    assert refused.status_code == 409
    page = refused.content.decode()
    assert re.search(r"Maya Cole changed this at \d\d:\d\d while you were editing \([^)]*notes", page)
    assert re.search(
        r"Saved meanwhile: .*Passes: 8; Endpoint: Pinpoint bleeding.*; Notes: Mild pinpoint bleeding", page
    )
    assert "Tom typed this" in page
    record = SessionRecord.objects.get(appointment=screened)
    assert (record.notes, record.values["passes"]) == ("Mild pinpoint bleeding", 8)

    # Saving again over the version the refusal showed is Tom's choice, and goes through.
    newer = refused.context["procedure_form"]["seen_version"].value()
    retried = toms.post(url, procedure_post(screened, passes="6", notes="Tom typed this", seen_version=newer))
    assert retried.status_code == 302
    record.refresh_from_db()
    assert (record.notes, record.values["passes"]) == ("Tom typed this", 6)


@pytest.mark.django_db
def test_a_save_from_a_page_opened_before_the_last_save_lists_only_what_changed_since(screened, maya):
    url = reverse("treatments:record_procedure", args=[screened.pk])
    client = signed_in(maya)
    version = opened_version(client, screened)
    first = procedure_post(screened, notes="First", seen_version=version)
    assert client.post(url, first).status_code == 302
    opened_after_first = opened_version(client, screened)
    assert client.post(url, {**first, "passes": "5", "seen_version": opened_after_first}).status_code == 302

    refused = client.post(url, procedure_post(screened, notes="Second", seen_version=opened_after_first))
    assert refused.status_code == 409
    # Only what the newer save changed is listed.
    assert "Saved meanwhile: Passes: 5." in refused.content.decode()
    assert SessionRecord.objects.get(appointment=screened).notes == "First"


@pytest.mark.django_db
def test_the_service_refuses_a_stale_version_naming_who_saved_last(screened, maya, tom):
    record = SessionRecord.objects.get(appointment=screened)
    seen = record_version(record)
    context = session_context(screened)
    values = {"passes": 8}
    recording.procedure_save(
        appointment=screened,
        context=context,
        values=values,
        notes="",
        confirmations={},
        by=maya,
        seen_version=seen,
    )
    with pytest.raises(ValidationError) as refused:
        recording.procedure_save(
            appointment=screened,
            context=context,
            values=values,
            notes="x",
            confirmations={},
            by=tom,
            seen_version=seen,
        )
    assert refused.value.error_list[0].code == recording.EDITED_MEANWHILE
    assert re.match(
        r"\S.* saved this record at \d\d:\d\d while you were editing it", refused.value.messages[0]
    )


@pytest.mark.django_db
def test_a_second_screening_of_the_same_session_is_refused_naming_who_screened(session, maya, tom):
    url = reverse("treatments:record_screening", args=[session.pk])
    mayas, toms = signed_in(maya), signed_in(tom)
    data = screening_post(session)
    assert mayas.post(url, data).status_code == 302
    refused = toms.post(url, {**data, "new_medications": "Isotretinoin"})
    assert refused.status_code == 409
    assert re.search(r"Maya Cole recorded the screening at \d\d:\d\d", refused.content.decode())
    assert SessionRecord.objects.get(appointment=session).screening["new_medications"] == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_over_the_same_version_cannot_both_pass_the_lock(catalog, maya, tom):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=maya)
    session = factories.make_session(practitioner=practitioner, area_slugs=("cheeks",))
    factories.screen_clear(session)
    seen = record_version(SessionRecord.objects.get(appointment=session))
    maya_saved, release = threading.Event(), threading.Event()

    def maya_saves_and_holds_the_lock():
        try:
            with transaction.atomic():
                recording.procedure_save(
                    appointment=session,
                    context=session_context(session),
                    values={"passes": 8},
                    notes="Maya",
                    confirmations={},
                    by=maya,
                    seen_version=seen,
                )
                maya_saved.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=maya_saves_and_holds_the_lock)
    holder.start()
    assert maya_saved.wait(10)
    # Tom's save read the same version; it waits on the lock, then sees Maya's save.
    threading.Timer(0.3, release.set).start()
    with pytest.raises(ValidationError) as refused:
        recording.procedure_save(
            appointment=session,
            context=session_context(session),
            values={"passes": 6},
            notes="Tom",
            confirmations={},
            by=tom,
            seen_version=seen,
        )
    holder.join()
    assert refused.value.error_list[0].code == recording.EDITED_MEANWHILE
    assert SessionRecord.objects.get(appointment=session).notes == "Maya"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_that_loses_the_lock_after_its_form_was_checked_answers_409_with_who_and_the_typing(
    catalog, maya, tom, monkeypatch
):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=maya)
    session = factories.make_session(practitioner=practitioner, area_slugs=("cheeks",))
    factories.screen_clear(session)
    url = reverse("treatments:record_procedure", args=[session.pk])
    mayas, toms = signed_in(maya), signed_in(tom)
    version = opened_version(toms, session)
    real_save = recording.procedure_save
    toms_call = [True]

    def maya_saves_first(**kwargs):
        # Tom's form has passed its check; Maya's whole request runs before Tom's takes the lock.
        if not toms_call:
            return real_save(**kwargs)  # Maya's own call
        toms_call.clear()

        def maya_posts():
            try:
                mayas.post(url, procedure_post(session, notes="Maya was first", seen_version=version))
            finally:
                connection.close()

        other = threading.Thread(target=maya_posts)
        other.start()
        other.join()
        return real_save(**kwargs)

    monkeypatch.setattr(recording, "procedure_save", maya_saves_first)
    refused = toms.post(url, procedure_post(session, notes="Tom typed this", seen_version=version))

    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Maya Cole changed this at" in page and "Tom typed this" in page
    assert SessionRecord.objects.get(appointment=session).notes == "Maya was first"
