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
        text, problem = self._read(options["file"])
        if problem:
            self.stderr.write(problem)
            sys.exit(2)
        catalog = current_catalog()
        read = self._jsonl if options["jsonl"] else self._single
        if read(text, catalog):
            sys.exit(2)

    def _read(self, name):
        """(text, None) or (None, a one-line problem)."""
        try:
            if name == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(name, "rb") as handle:
                    data = handle.read()
        except OSError as error:
            return None, f"{name}: cannot read ({error.strerror or error})"
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError as error:
            return None, f"{name}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"

    def _parse(self, text):
        try:
            return json.loads(text), []
        except json.JSONDecodeError as error:
            return None, [
                f"profile: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
            ]
        except RecursionError:
            return None, ["profile: JSON nested too deeply"]

    def _problems(self, text, catalog):
        profile, problems = self._parse(text)
        profile = _with_today(profile)
        if not problems:
            problems = validate(profile, catalog)
        return profile, problems

    def _single(self, text, catalog):
        profile, problems = self._problems(text, catalog)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            return True
        self.stdout.write(json.dumps(suggest(profile, catalog).to_json(), indent=2))
        return False

    def _jsonl(self, text, catalog):
        failed = False
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            profile, problems = self._problems(line, catalog)
            if problems:
                failed = True
                for problem in problems:
                    self.stderr.write(f"line {number}: {problem}")
                self.stdout.write(json.dumps({"errors": problems}))
            else:
                self.stdout.write(json.dumps(suggest(profile, catalog).to_json()))
        return failed
