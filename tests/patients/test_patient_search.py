from datetime import date

import pytest

from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "ana": PatientFactory(
            first_name="Ana",
            last_name="Silva",
            phone="+1 (212) 555-0199",
            email="ana.silva@example.com",
            date_of_birth=date(1990, 3, 4),
        ),
        "bo": PatientFactory(
            first_name="Bo",
            last_name="Anders",
            phone="646-555-0123",
            email="bo@example.org",
            date_of_birth=date(1985, 12, 1),
        ),
    }


def _found(query):
    return set(Patient.objects.search(query).values_list("first_name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("silva", {"Ana"}),
        ("ana silva", {"Ana"}),
        ("AND", {"Bo"}),
        ("an", {"Ana", "Bo"}),
        ("555-0199", {"Ana"}),
        ("2125550199", {"Ana"}),
        ("0123", {"Bo"}),
        ("bo@example.org", {"Bo"}),
        ("1990-03-04", {"Ana"}),
        ("12/01/1985", {"Bo"}),
        ("nobody", set()),
        ("", {"Ana", "Bo"}),
    ],
)
def test_search_by_name_phone_email_or_birth_date(people, query, expected):
    assert _found(query) == expected


def test_archived_patients_leave_the_active_list(people):
    Patient.objects.filter(pk=people["bo"].pk).update(archived_at="2026-01-01T00:00:00Z")
    assert set(Patient.objects.active().values_list("first_name", flat=True)) == {"Ana"}
    assert set(Patient.objects.archived().values_list("first_name", flat=True)) == {"Bo"}


@pytest.mark.parametrize("query", ["Menuella", "1985-07-14", "555 0199"])
def test_the_menu_search_box_finds_a_patient_without_the_text_in_the_address(front_desk_client, query):
    from django.urls import reverse

    PatientFactory(
        first_name="Menuella", last_name="Finder", date_of_birth=date(1985, 7, 14), phone="+1 555 0199"
    )
    page = front_desk_client.get(reverse("dashboard")).content.decode()
    assert 'aria-label="Find a patient"' in page and f'action="{reverse("patients:list")}"' in page
    found = front_desk_client.post(reverse("patients:list"), {"q": query}, follow=True)
    url = found.redirect_chain[-1][0]
    assert query not in url and "Menuella" not in url
    assert "Finder, Menuella" in found.content.decode()
