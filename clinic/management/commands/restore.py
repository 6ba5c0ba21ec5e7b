from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.backup import BackupProblem, restore


class Command(BaseCommand):
    help = "Restore an archive written by `backup` into an EMPTY database and media directory."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        try:
            manifest = restore(Path(options["file"]), alias=options["database"])
        except BackupProblem as problem:
            raise CommandError(str(problem), returncode=2) from problem
        self.stdout.write(
            f"Restored the backup of {manifest['database']} made {manifest['created_at']} "
            f"({manifest['media_files']} media files)."
        )
