import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clinic.scale_data import ScaleOptions, build_scale, check_sessions, describe, existing_patients

REFUSED = (
    "seed_scale refused: this database already holds {count:,} patients; "
    "pass --force (or --i-know-this-is-not-production) to add a scale chain to it anyway."
)


class Command(BaseCommand):
    help = (
        "Build a clinic chain at scale for benchmarks (clinic/scale_data.py): patients with concerns, "
        "dated histories and consents; plans, of which --service-plans are accepted through "
        "treatments/services/plans.py (suggestion, default choices, plan_accept) and the rest copy "
        "the shape of the service's plan for the same clinical archetype, dates moved; about "
        "--sessions-per-day sessions a weekday over --days days around today, laid out without "
        "overlaps per practitioner, room, device and patient; signed records and outcome scores for "
        "past sessions (a few through the recording services); and one patient with a long history. "
        "Bulk-created in batches. Refuses a database that already has patients unless --force. "
        "Needs the catalog (seed_catalog)."
    )

    def add_arguments(self, parser):
        defaults = ScaleOptions()
        parser.add_argument("--patients", type=int, default=defaults.patients)
        parser.add_argument("--practitioners", type=int, default=defaults.practitioners)
        parser.add_argument("--locations", type=int, default=defaults.locations)
        parser.add_argument(
            "--days",
            type=int,
            default=defaults.days,
            help="Days of sessions, half before today, half from today.",
        )
        parser.add_argument(
            "--sessions-per-day",
            type=int,
            default=defaults.sessions_per_day,
            help="Sessions on a weekday across the chain (weekends: fewer, fewer practitioners work).",
        )
        parser.add_argument(
            "--plan-share", type=float, default=defaults.plan_share, help="Share of patients with a plan."
        )
        parser.add_argument(
            "--service-plans",
            type=int,
            default=defaults.service_plans,
            help="Plans accepted through plans.plan_accept; the other plans copy their shape.",
        )
        parser.add_argument(
            "--long-history",
            type=int,
            default=defaults.long_history,
            help="Sessions of the long-history patient (e-mail long.history@scale.example).",
        )
        parser.add_argument(
            "--seed", type=int, default=defaults.seed, help="Random seed (same seed, same data)."
        )
        parser.add_argument(
            "--clinician-users",
            default="",
            help="Comma-separated existing users to make the first practitioners (e.g. the demo "
            "clinician, so that My day shows a busy day for a user one can log in as).",
        )
        parser.add_argument(
            "--check",
            type=int,
            default=0,
            metavar="N",
            help="Then judge N random sessions again with the booking rules and list what they say.",
        )
        parser.add_argument(
            "--force",
            "--i-know-this-is-not-production",
            action="store_true",
            dest="force",
            help="Run even though the database already has patients.",
        )

    def handle(self, *args, **options):
        count = existing_patients()
        if count and not options["force"]:
            raise CommandError(REFUSED.format(count=count), returncode=2)
        if options["locations"] < 1 or options["practitioners"] < options["locations"]:
            raise CommandError("Give at least one location and one practitioner per location.", returncode=2)
        scale = ScaleOptions(
            patients=options["patients"],
            practitioners=options["practitioners"],
            locations=options["locations"],
            days=options["days"],
            sessions_per_day=options["sessions_per_day"],
            plan_share=options["plan_share"],
            service_plans=options["service_plans"],
            long_history=options["long_history"],
            seed=options["seed"],
            clinician_users=tuple(u.strip() for u in options["clinician_users"].split(",") if u.strip()),
        )
        started = time.perf_counter()
        self.stdout.write(
            f"Building a chain of {scale.locations} locations, {scale.practitioners} practitioners, "
            f"{scale.patients:,} patients, {scale.days} days of sessions (seed {scale.seed}):"
        )
        try:
            report = build_scale(scale, out=self.stdout.write)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        for line in describe(report):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Scale data ready in {time.perf_counter() - started:.0f} s."))
        if options["check"]:
            judged, problems = check_sessions(options["check"], seed=scale.seed)
            self.stdout.write(f"Booking rules on {judged} random sessions: {sum(problems.values())} problems")
            for message, times in problems.most_common():
                self.stdout.write(f"  {times:>5}  {message}")
