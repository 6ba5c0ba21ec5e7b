"""Uploaded photos are stored upright, without EXIF (GPS, camera), readable by the app's user only (issue 13)."""

import io
import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests import factories
from treatments.models import SessionPhoto

pytestmark = pytest.mark.django_db

ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE = 0x010F


def jpeg_from_a_phone(size=(60, 40)):
    """A landscape JPEG whose EXIF says: rotate 90° to view, taken at a GPS position with a named camera."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (40.0, 44.0, 54.0), 3: "W", 4: (73.0, 59.0, 10.0)}
    out = io.BytesIO()
    Image.new("RGB", size, "pink").save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def session(clinician_user):
    return factories.make_session(
        practitioner=factories.make_practitioner(factories.make_location(), user=clinician_user)
    )


def test_a_phone_photo_is_stored_upright_without_its_exif(clinician_client, session, private_media):
    original = jpeg_from_a_phone()
    assert Image.open(io.BytesIO(original)).getexif()[MAKE] == "PhoneMaker"
    factories.screen_clear(session)
    response = clinician_client.post(
        reverse("treatments:record_photo", args=[session.pk]),
        {
            "area": session.areas.get(slug="cheeks").pk,
            "kind": "before",
            "image": SimpleUploadedFile("IMG_0001.jpg", original, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    photo = SessionPhoto.objects.get(appointment=session)
    stored = private_media / photo.image.name
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert image.size == (40, 60)  # the orientation was applied, then dropped
        exif = image.getexif()
        assert MAKE not in exif and GPS_IFD not in exif and ORIENTATION not in exif
    served = b"".join(clinician_client.get(reverse("treatments:photo", args=[photo.pk])).streaming_content)
    assert b"PhoneMaker" not in served
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
