from django.core.management.base import BaseCommand, CommandError

from treatments.services.reminders import send_due


class Command(BaseCommand):
    help = (
        "Email each patient with a session in the next HOURS (default 24) once, with the prep instructions. "
        "Exits 1 when a send failed or the mail server stopped the run; those are sent by the next run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, **options):
        run = send_due(hours=options["hours"])
        counts = f"{run.sent} sent, {run.failed} failed, {run.without_address} not sent (no e-mail address)"
        # One line either way, for cron's mail and the logs.
        if run.stopped:
            raise CommandError(
                f"Reminders stopped, {run.stopped}: {counts}. The rest are left for the next run.",
                returncode=1,
            )
        if run.failed:
            raise CommandError(
                f"Reminders: {counts}. The failed ones are retried on the next run.", returncode=1
            )
        self.stdout.write(f"Reminders: {counts}.")
