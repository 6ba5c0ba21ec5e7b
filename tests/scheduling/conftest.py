import pytest

from tests.scheduling.helpers import make_clinic


@pytest.fixture
def clinic(db):
    """Open Monday to Saturday with three rooms; one practitioner works Monday to Friday. A module
    whose clinic differs defines its own `clinic`."""
    return make_clinic()


@pytest.fixture
def clock(monkeypatch, settings):
    """Stop the clock at a moment: clock(at(MONDAY, 12))."""
    from django.utils import timezone

    # Sessions are saved on every request at the stopped time: a jump of a day must not end them.
    settings.SESSION_COOKIE_AGE = 400 * 24 * 3600

    def stop(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return stop
