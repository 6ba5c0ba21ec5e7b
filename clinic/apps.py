from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic.services import sync_role_permissions

        # Permissions of models added by later migrations only exist after post_migrate, so the
        # groups' permissions are brought up to date after every migrate, not only once.
        post_migrate.connect(sync_role_permissions, sender=self, dispatch_uid="clinic_sync_roles")

        from django.contrib.auth.signals import user_logged_in

        from clinic.middleware import SessionIdleRefreshMiddleware

        # Logging in saves the session: the next minute's requests need not save it again.
        user_logged_in.connect(
            SessionIdleRefreshMiddleware.note_saved, dispatch_uid="clinic_session_saved_at_login"
        )
