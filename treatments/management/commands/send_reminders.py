from django.core.management.base import BaseCommand

from treatments.services.reminders import send_due


class Command(BaseCommand):
    help = (
        "Email each patient with a session in the next HOURS (default 24) once, with the prep instructions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, **options):
        sent, failed = send_due(hours=options["hours"])
        self.stdout.write(f"{sent} reminders sent, {failed} failed (they will be retried on the next run).")
        if failed:
            raise SystemExit(1)
