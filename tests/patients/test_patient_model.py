import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from patients.models import BodyArea, ConditionRecord
from tests.factories import ConditionRecordFactory, PatientFactory, condition

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("phone", ["+1 212 555 0100", "(212) 555-0100", "0044 20 7946 0958"])
def test_valid_phone_numbers_pass(phone):
    PatientFactory.build(phone=phone).full_clean()


@pytest.mark.parametrize("phone", ["call me", "12", "+1 212 555 0100 ext. 4"])
def test_invalid_phone_numbers_are_refused(phone):
    with pytest.raises(ValidationError) as error:
        PatientFactory.build(phone=phone).full_clean()
    assert "phone" in error.value.message_dict


def test_invalid_email_is_refused():
    with pytest.raises(ValidationError) as error:
        PatientFactory.build(email="not-an-email").full_clean()
    assert "email" in error.value.message_dict


@pytest.mark.parametrize("skin_type", [0, 7])
def test_fitzpatrick_outside_one_to_six_is_refused(skin_type):
    with pytest.raises(ValidationError) as error:
        PatientFactory.build(fitzpatrick=skin_type).full_clean()
    assert "fitzpatrick" in error.value.message_dict


def test_phone_digits_are_derived_for_search():
    patient = PatientFactory(phone="+1 (212) 555-0100")
    patient.refresh_from_db()
    assert patient.phone_digits == "12125550100"


def test_condition_end_before_start_is_refused_by_validation_and_database():
    record = ConditionRecord(
        patient=PatientFactory(), condition=condition("isotretinoin"), since="2026-05-01", until="2026-04-01"
    )
    with pytest.raises(ValidationError) as error:
        record.full_clean()
    assert "until" in error.value.message_dict
    with pytest.raises(IntegrityError):
        record.save()


@pytest.mark.parametrize(
    ("until", "ongoing"),
    [(None, True), ("2026-11-23", True), ("2026-11-22", False), ("2026-01-01", False)],
)
def test_a_record_is_ongoing_until_its_end_date(until, ongoing):
    from datetime import date

    record = ConditionRecordFactory.build(since=date(2026, 1, 1), until=until and date.fromisoformat(until))
    assert record.is_ongoing(date(2026, 11, 22)) is ongoing


def test_area_limited_record_keeps_its_areas():
    record = ConditionRecordFactory(condition=condition("active_acne"), areas=["chin_jaw"])
    assert [a.slug for a in record.areas.all()] == ["chin_jaw"]


def test_body_area_cannot_be_its_own_ancestor():
    face = BodyArea.objects.get(slug="face")
    face.parent = BodyArea.objects.get(slug="cheek_left")
    with pytest.raises(ValidationError):
        face.full_clean()


def test_history_keeps_every_change_of_a_record():
    record = ConditionRecordFactory(condition=condition("isotretinoin"))
    record.notes = "20 mg daily"
    record.save()
    assert record.history.count() == 2
    assert record.history.first().notes == "20 mg daily"
