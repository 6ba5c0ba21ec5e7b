import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username="clinician").exists()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_sets_the_demo_password(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("seed_demo", verbosity=0)
    count = get_user_model().objects.count()
    call_command("seed_demo", verbosity=0)
    assert get_user_model().objects.count() == count
    for username in ("clinician", "frontdesk", "clinicadmin"):
        user = get_user_model().objects.get(username=username)
        assert user.check_password("demo-pass-123")
