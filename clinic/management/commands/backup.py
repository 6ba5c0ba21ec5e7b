from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.backup import BackupProblem, backup


class Command(BaseCommand):
    help = "Write one archive holding the PostgreSQL dump (custom format) and the private media."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The archive to write, e.g. clinic-2027-01-04.tar.gz")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        try:
            manifest = backup(Path(options["file"]), alias=options["database"])
        except BackupProblem as problem:
            raise CommandError(str(problem), returncode=2) from problem
        self.stdout.write(
            f"Backed up {manifest['database']} and {manifest['media_files']} media files to {options['file']}."
        )
