import pytest


def _django_enabled(config):
    return config.pluginmanager.hasplugin("django")


def pytest_configure(config):
    if not _django_enabled(config):
        return
    from django.conf import settings

    # Cheap hashing keeps the suite fast; real hashers are exercised by Django's own tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_media(request, tmp_path):
    if _django_enabled(request.config):
        request.getfixturevalue("settings").MEDIA_ROOT = tmp_path / "media"
