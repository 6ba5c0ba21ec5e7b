import json
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from treatments.selectors.plan_suggestions import current_catalog, suggest, validate


def _with_today(profile):
    if isinstance(profile, dict) and "today" not in profile:
        return {**profile, "today": timezone.localdate().isoformat()}
    return profile


class Command(BaseCommand):
    help = "Suggest a session plan for a profile (JSON, per shared/domain/plan-api.md). FILE '-' reads stdin."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--jsonl", action="store_true", help="One profile per line in, one plan per line out."
        )

    def handle(self, *args, **options):
        handle = sys.stdin if options["file"] == "-" else open(options["file"], encoding="utf-8")  # noqa: SIM115
        with handle:
            text = handle.read()
        catalog = current_catalog()
        read = self._jsonl if options["jsonl"] else self._single
        if read(text, catalog):
            sys.exit(2)

    def _parse(self, text):
        try:
            return json.loads(text), []
        except json.JSONDecodeError as error:
            return None, [
                f"profile: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
            ]

    def _single(self, text, catalog):
        profile, problems = self._parse(text)
        profile = _with_today(profile)
        problems = problems or validate(profile, catalog)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            return True
        self.stdout.write(json.dumps(suggest(profile, catalog), indent=2))
        return False

    def _jsonl(self, text, catalog):
        failed = False
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            profile, problems = self._parse(line)
            profile = _with_today(profile)
            problems = problems or validate(profile, catalog)
            if problems:
                failed = True
                for problem in problems:
                    self.stderr.write(f"line {number}: {problem}")
                self.stdout.write(json.dumps({"errors": problems}))
            else:
                self.stdout.write(json.dumps(suggest(profile, catalog)))
        return failed
