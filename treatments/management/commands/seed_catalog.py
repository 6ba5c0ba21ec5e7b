import sys

from django.core.management.base import BaseCommand

from treatments.services.catalog_seeding import (
    CATALOG_FILE,
    VOCABULARY_FILE,
    SeedError,
    load_seed_data,
    seed_catalog,
)


class Command(BaseCommand):
    help = (
        "Load the default catalog (vocabularies, treatments, protocols, rules) from the seed files. "
        "Bad input: one line per problem on stderr, exit status 2, nothing written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--vocabulary", default=str(VOCABULARY_FILE))
        parser.add_argument("--catalog", default=str(CATALOG_FILE))

    def handle(self, *args, **options):
        try:
            counts = seed_catalog(load_seed_data(options["vocabulary"], options["catalog"]))
        except SeedError as error:
            for problem in error.problems:
                self.stderr.write(problem)
            sys.exit(2)
        if options["verbosity"]:
            summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
            self.stdout.write(self.style.SUCCESS(f"Catalog seeded: {summary}."))
