"""A room, device, practitioner or location that sessions ahead still hold cannot be deactivated in
the admin, from its form or in bulk, until those sessions are moved; the refusal lists them by id,
day, time and patient initials, never clinical text."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.factories import PatientFactory
from treatments.models import Appointment, Device, Location, Practitioner, Room
from treatments.services import booking

pytestmark = pytest.mark.django_db


def local(days_ahead, hour):
    day = timezone.localdate() + timedelta(days=days_ahead)
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def clinic(db):
    location = factories.make_location(name="North Clinic", rooms=2, pens=2)
    return location, factories.make_practitioner(location)


def book(clinic, start, *, room=None, devices=(), **patient):
    location, practitioner = clinic
    return booking.session_book(
        request=booking.BookingRequest(
            patient=PatientFactory(**patient),
            treatment=factories.treatment("mn"),
            areas=factories.areas("cheeks"),
            practitioner=practitioner,
            start=start,
            room=room or location.rooms.first(),
            devices=list(devices) or [location.devices.get(name="Pen 1")],
        ),
        by=factories.front_desk(),
    )


def change_form_data(client, url):
    """What the admin's change page would post back untouched, its inlines included."""
    page = client.get(url)
    data = {}

    def take(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(getattr(item, "pk", item)) for item in value]
            else:
                data[key] = str(getattr(value, "pk", value))

    take(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        take(inline.formset.management_form)
        for form in inline.formset.forms:
            take(form)
    return data


def deactivate_in_form(client, resource):
    url = reverse(f"admin:treatments_{resource._meta.model_name}_change", args=[resource.pk])
    data = change_form_data(client, url)
    data.pop("active")
    return client.post(url, data)


def deactivate_in_bulk(client, model, *resources):
    url = reverse(f"admin:treatments_{model._meta.model_name}_changelist")
    return client.post(
        url, {"action": "deactivate", ACTION_CHECKBOX_NAME: [r.pk for r in resources]}, follow=True
    )


def test_a_room_with_a_session_ahead_is_refused_in_its_form_listing_the_session(clinic_admin_client, clinic):
    location, _ = clinic
    room = location.rooms.first()
    session = book(clinic, local(3, 10), room=room, first_name="Ada", last_name="Byron")

    response = deactivate_in_form(clinic_admin_client, room)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["active"]
    when = timezone.localtime(session.starts_at)
    assert errors == [
        f"{room} still has 1 session ahead: #{session.pk} {when:%a %d %b %Y} 10:00 (A.B.). "
        "Move or cancel them first."
    ]
    assert "Microneedling" not in errors[0] and "Byron" not in errors[0]
    assert Room.objects.get(pk=room.pk).active


def test_once_its_session_is_moved_the_room_is_deactivated(clinic_admin_client, clinic):
    location, _ = clinic
    first, second = location.rooms.all()[:2]
    session = book(clinic, local(3, 10), room=first)
    booking.session_move(appointment=session, start=session.starts_at, room=second, by=factories.front_desk())

    assert deactivate_in_form(clinic_admin_client, first).status_code == 302
    assert not Room.objects.get(pk=first.pk).active
    assert Room.history.filter(id=first.pk, active=False).exists()


def test_past_and_cancelled_sessions_do_not_hold_a_room(clinic_admin_client, clinic):
    location, practitioner = clinic
    room = location.rooms.first()
    cancelled = book(clinic, local(3, 10), room=room)
    booking.session_status_change(
        appointment=cancelled, status=Appointment.Status.CANCELLED, by=factories.front_desk(), reason="Asked"
    )
    past = factories.make_session(practitioner=practitioner, start=timezone.now() - timedelta(days=2))
    Appointment.objects.filter(pk=past.pk).update(room=room)

    assert deactivate_in_form(clinic_admin_client, room).status_code == 302
    assert not Room.objects.get(pk=room.pk).active


def test_a_device_held_by_a_session_ahead_is_refused(clinic_admin_client, clinic):
    location, _ = clinic
    pen = location.devices.get(name="Pen 2")
    session = book(clinic, local(5, 14), devices=[pen])
    response = deactivate_in_form(clinic_admin_client, pen)
    assert response.status_code == 200
    assert f"#{session.pk} " in response.context["adminform"].form.errors["active"][0]
    assert Device.objects.get(pk=pen.pk).active


def test_a_practitioner_with_sessions_ahead_is_refused_in_the_form_with_its_working_hours(
    clinic_admin_client, clinic
):
    _, practitioner = clinic
    sessions = [book(clinic, local(days, 11)) for days in (2, 4)]
    response = deactivate_in_form(clinic_admin_client, practitioner)
    assert response.status_code == 200
    error = response.context["adminform"].form.errors["active"][0]
    assert "still has 2 sessions ahead" in error
    assert [int(pk) for pk in re.findall(r"#(\d+) ", error)] == [s.pk for s in sessions]
    assert Practitioner.objects.get(pk=practitioner.pk).active


def test_a_practitioner_with_none_ahead_is_deactivated_in_the_form(clinic_admin_client, clinic):
    _, practitioner = clinic
    assert deactivate_in_form(clinic_admin_client, practitioner).status_code == 302
    assert not Practitioner.objects.get(pk=practitioner.pk).active


def test_the_bulk_action_deactivates_nothing_while_one_location_has_a_session_ahead(
    clinic_admin_client, clinic
):
    busy, _ = clinic
    free = factories.make_location(name="South Clinic")
    session = book(clinic, local(1, 9))

    response = deactivate_in_bulk(clinic_admin_client, Location, busy, free)

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith(f"North Clinic still has 1 session ahead: #{session.pk} ") for m in shown)
    assert "Nothing was deactivated." in shown
    assert Location.objects.filter(pk__in=[busy.pk, free.pk], active=True).count() == 2

    response = deactivate_in_bulk(clinic_admin_client, Location, free)
    assert "1 deactivated." in [str(m) for m in response.context["messages"]]
    assert not Location.objects.get(pk=free.pk).active
    assert Location.history.filter(id=free.pk, active=False).exists()


@pytest.mark.parametrize("model", [Room, Device, Practitioner])
def test_the_bulk_action_refuses_each_kind_of_resource_held_ahead(clinic_admin_client, clinic, model):
    _, practitioner = clinic
    session = book(clinic, local(2, 15))
    held = {Room: session.room, Device: session.devices.first(), Practitioner: practitioner}[model]
    response = deactivate_in_bulk(clinic_admin_client, model, held)
    assert any(f"#{session.pk} " in str(m) for m in response.context["messages"])
    assert model.objects.get(pk=held.pk).active


def test_a_front_desk_user_cannot_reach_the_deactivation(client, clinic):
    location, _ = clinic
    client.force_login(factories.front_desk())
    response = client.post(
        reverse("admin:treatments_room_changelist"),
        {"action": "deactivate", ACTION_CHECKBOX_NAME: [location.rooms.first().pk]},
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert location.rooms.first().active
