import pytest


def pytest_configure(config):
    from django.conf import settings

    # Cheap hashing keeps the suite fast; real hashers are exercised by Django's own tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
