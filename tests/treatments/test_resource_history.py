"""Scheduling resources keep their change history, the practitioner's feed token included (issue 13)."""

import pytest
from django.urls import reverse

from tests import factories
from treatments.models import Practitioner, Room

pytestmark = pytest.mark.django_db


def test_a_renewed_feed_token_leaves_the_old_one_in_the_history(catalog):
    practitioner = factories.make_practitioner(factories.make_location())
    old = practitioner.feed_token
    practitioner.feed_token = "renewed-token-for-the-test"
    practitioner.save()
    tokens = list(
        Practitioner.history.filter(id=practitioner.pk)
        .order_by("history_date")
        .values_list("feed_token", flat=True)
    )
    assert tokens == [old, "renewed-token-for-the-test"]


def test_a_room_deactivated_in_the_admin_is_in_its_history_page(catalog, clinic_admin_client):
    room = factories.make_location().rooms.first()
    url = reverse("admin:treatments_room_change", args=[room.pk])
    form = clinic_admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(location=room.location_id, kind=room.kind_id, active="")
    response = clinic_admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Room.history.filter(id=room.pk, active=False).exists()
    history = clinic_admin_client.get(reverse("admin:treatments_room_history", args=[room.pk]))
    assert history.status_code == 200
