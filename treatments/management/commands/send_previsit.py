from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from treatments.services.previsit import previsit_send_due


class Command(BaseCommand):
    help = (
        "Send each patient with a booked session in the next PORTAL_PREVISIT_HOURS (48) the day-of "
        "screening questions once, with a single-use sign-in link. --base-url (or the setting "
        "PORTAL_BASE_URL) is the site's address the links start with, e.g. https://clinic.example.com. "
        "Exits 1 when a send failed or the mail server stopped the run; those are sent by the next run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=getattr(settings, "PORTAL_BASE_URL", ""))

    def handle(self, *args, **options):
        base = (options["base_url"] or "").rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise CommandError(
                "Give the site's address for the links: --base-url https://clinic.example.com "
                "(or set PORTAL_BASE_URL).",
                returncode=2,
            )
        run = previsit_send_due(
            now=timezone.now(), link_url=lambda token: base + reverse("portal:link", args=[token])
        )
        counts = (
            f"{run.sent} sent, {run.failed} failed, "
            f"{run.without_address} not sent (no e-mail address or phone number)"
        )
        # One line either way, for cron's mail and the logs.
        if run.stopped:
            raise CommandError(
                f"Pre-visit questions stopped, {run.stopped}: {counts}. The rest are left for the next run.",
                returncode=1,
            )
        if run.failed:
            raise CommandError(
                f"Pre-visit questions: {counts}. The failed ones are retried on the next run.", returncode=1
            )
        self.stdout.write(f"Pre-visit questions: {counts}.")
