"""The aftercare sheet names the treatment as the catalog spells it."""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["mn_prp", "mn"])
def test_the_aftercare_title_keeps_the_catalog_spelling(clinician_client, clinician_user, slug):
    practitioner = factories.make_practitioner(factories.make_location(rooms=1, pens=1), user=clinician_user)
    session = factories.make_session(practitioner=practitioner, treatment_slug=slug)
    name = session.treatment.name
    page = clinician_client.get(reverse("treatments:aftercare_sheet", args=[session.pk])).content.decode()
    assert f"Aftercare after your {name}</h1>" in page
    if slug == "mn_prp":
        assert "Aftercare after your Microneedling with PRP</h1>" in page
        assert "microneedling with prp" not in page
