from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatment catalog, plans and sessions"

    def ready(self):
        from treatments import signals

        signals.connect()
