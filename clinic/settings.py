"""Settings for the clinic app, read from the environment with safe development defaults.

Production: DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL set; see README "Deploy".
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# Clinicians and clinic admins confirm a second factor (an authenticator app) after their password.
# On unless DEBUG (the demo); REQUIRE_2FA=0 turns it off, e.g. behind a single sign-on that has one.
REQUIRE_2FA = env_bool("REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Clinic planner")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "patients",
    "treatments",
    # Last: its post_migrate handler gives the role groups permissions of every app's models,
    # which exist only once the other apps' post_migrate handlers have run.
    "clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clinic.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the session: an unreachable database answers 503 before anything reads from it.
    "clinic.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "clinic.middleware.MalformedInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.middleware.SessionIdleRefreshMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.two_factor.TwoFactorMiddleware",
    "clinic.access_log.AccessLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the backend into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.roles.roles_context",
                "clinic.portal_contacts.clinic_phones",
            ],
        },
    },
    {
        # Only for the hot partials included with {% jinja %} (clinic/jinja.py); pages are Django's.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "clinic.jinja.environment"},
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # IMMEDIATE takes the write lock at BEGIN, so check-then-insert booking transactions serialise.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
else:
    # Select menus iterate their choices with .iterator(): a server-side cursor would cost a
    # DECLARE and a fetch per 100 rows, and does not survive pgbouncer's transaction pooling
    # (docs/performance.md, past one machine).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session expires after SESSION_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# Not on every request (a write per page view): clinic.middleware.SessionIdleRefreshMiddleware
# saves a signed-in session again once a minute at most, which keeps the idle timeout.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
# Messages ("Anna Lee is registered.") stay on the server with the session, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Lock an account after repeated failures from the same address, without locking a whole clinic
# that shares one public IP out of every account.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules/bootstrap/dist"),
    ("vendor/htmx", BASE_DIR / "node_modules/htmx.org/dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules/chart.js/dist"),
    ("vendor/signature_pad", BASE_DIR / "node_modules/signature_pad/dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("STATIC_NO_MANIFEST")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Clinical uploads (photos) live outside the static tree and are served only through views
# that check permissions.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "private_media")))
# Clinical photos are readable by the app's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# Seconds a mail server may stay silent before a reminder run gives up on it (docs/operations.md).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# A reminder claimed by a run that never marked it sent (the run was killed) is sent again by a
# later run after this many minutes; keep it well above EMAIL_TIMEOUT.
REMINDER_LEASE_MINUTES = env_int("REMINDER_LEASE_MINUTES", 15)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the browsable API's pages need inline script (the CSP refuses it) and show the
    # signed-in user's name, which for a patient is their portal account's.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic treatment planning API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["clinic.api_permissions.IsStaff"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("BEHIND_TLS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Patient data never goes to logs: no request bodies are logged, and errors name the path only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # At DEBUG the template engine logs whole contexts, patient names included.
        "django.template": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "clinic-demo-2026")

# The patient portal (docs/portal.md): text messages go through this backend (clinic/sms.py); a
# sign-in link lasts PORTAL_LINK_MINUTES, a patient's session PORTAL_SESSION_SECONDS of idleness.
SMS_BACKEND = env_str("SMS_BACKEND", "clinic.sms.ConsoleBackend")
PORTAL_LINK_MINUTES = env_int("PORTAL_LINK_MINUTES", 15)
PORTAL_SESSION_SECONDS = env_int("PORTAL_SESSION_SECONDS", 1800)
# A patient may cancel or move a session online until this many hours before it (docs/portal.md).
PORTAL_CANCEL_NOTICE_HOURS = env_int("PORTAL_CANCEL_NOTICE_HOURS", 24)
# The day-of screening questions go to the patient this many hours before a session.
PORTAL_PREVISIT_HOURS = env_int("PORTAL_PREVISIT_HOURS", 48)
# The site's address for links in messages sent outside a request (send_previsit), e.g.
# https://clinic.example.com; the command's --base-url wins.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "")
# A plan sent to the patient to sign comes with a sign-in link that works once for this long.
PORTAL_INVITE_HOURS = env_int("PORTAL_INVITE_HOURS", 72)
# The first session of a treatment series may be booked online from its planned day for this many
# days (later sessions follow the previous one by the plan's interval).
PORTAL_FIRST_VISIT_DAYS = env_int("PORTAL_FIRST_VISIT_DAYS", 28)
