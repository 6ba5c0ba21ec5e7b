from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the default catalog (vocabularies, treatments, protocols, rules) from the seed files."

    def handle(self, *args, **options):
        self.stdout.write("Catalog seeding is added with the catalog models.")
