"""Settings shared by every environment; everything that differs comes from the environment."""

from pathlib import Path
from typing import Any

import environ
from celery.schedules import schedule
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "identity.admin_apps.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "servestatic",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.headless",
    "csp",
    "ninja",
    "identity",
    "proposals",
    "debates",
    "voting",
    "config.apps.ProjectConfig",
]

# Every middleware is natively async: under ASGI the chain runs on the event loop, with no thread
# hop per hook (config/middleware.py says why each is safe there; tests/test_middleware.py checks).
MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "config.metrics.RequestMetricsMiddleware",
    "config.middleware.SecurityMiddleware",
    "config.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "config.security_headers.RetryAfterMiddleware",
    "config.security_headers.NoStoreWhenSignedInMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "identity.middleware.MunicipalityMiddleware",
    "config.middleware.SessionMiddleware",
    "config.middleware.LocaleMiddleware",
    "config.middleware.CommonMiddleware",
    "config.middleware.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "config.middleware.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
# Django's deploy checks look for its middleware by exact path; config/checks.py runs them for ours.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "identity.context_processors.municipality",
            ],
        },
    },
]

# Embedded default: SQLite when no DATABASE_URL is given (the quick start and `make test`).
# An empty value counts as unset (e.g. `DATABASE_URL= make test`).
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

REDIS_URL: str | None = env.str("REDIS_URL", default="") or None
# Redis down is a cache miss, never an error: sessions fall back to the database (cached_db),
# rate limits count from zero, cached data is computed afresh. Short timeouts bound what an
# unreachable (rather than refusing) Redis costs a request.
CACHES_REDIS_OPTIONS = {
    "IGNORE_EXCEPTIONS": True,
    "SOCKET_CONNECT_TIMEOUT": 0.5,
    "SOCKET_TIMEOUT": 0.5,
}

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # channels_redis waits up to 5 s in BZPOPMIN; redis-py 8 also times reads out after 5 s
            # by default, which killed idle consumers. Reads may take longer than the wait.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
    CACHES = {
        "default": {
            # django-redis keeps one redis-py client per pool (Django's own backend builds one
            # per call, ~100 µs of CPU each: docs/decisions.md).
            "BACKEND": "config.cache.OutageTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": CACHES_REDIS_OPTIONS,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when Redis is there, otherwise tasks run eagerly in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Redis restarts (issue 14, docs/operations.md "Processes"):
# - A worker subscribed to pub/sub (remote control, gossip, mingle, event heartbeat) could notice
#   the outage on that socket first and then die closing its task channel (kombu 5.7:
#   `'NoneType' object has no attribute 'hostname'`): remote control is off here, the rest by
#   the worker's command line (config.celery.WORKER_ARGS).
# - With a prefetch limit, a worker whose processes were all busy had no read pending on Redis,
#   so it missed the restart; the acknowledgements that failed meanwhile kept its limit used up
#   and it never asked for work again. Without a limit a read is always pending. Tasks are short
#   and few; one worker taking every queued one is fine.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 0
# A worker (re)started while Redis is down waits for it instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On a lost connection, let running tasks finish (Celery warns that its default will change):
# stopping them midway left an outbox relay's claimed messages leased for two minutes, or an
# e-mail sent but not marked. Their acknowledgement fails, Redis gives the message out again
# later, and every task is idempotent.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "audit-seal": {"task": "identity.tasks.audit_seal_task", "schedule": schedule(5.0)},
    "celery-heartbeat": {"task": "identity.tasks.celery_heartbeat", "schedule": schedule(15.0)},
    # The transactional outbox (identity.outbox): commits also nudge it, this is the safety net
    # that delivers whatever a nudge missed (a broker outage) and retries failures with backoff.
    "outbox-relay": {"task": "identity.tasks.outbox_relay_task", "schedule": schedule(2.0)},
    "outbox-purge": {"task": "identity.tasks.outbox_purge_task", "schedule": schedule(3600.0)},
    "idempotency-purge": {
        "task": "identity.tasks.idempotency_purge_task",
        "schedule": schedule(3600.0),
    },
    "proposals-close-due": {
        "task": "proposals.tasks.close_due_collections",
        "schedule": schedule(60.0),
    },
    # Signatory personal data past the retention period of its proposal type (docs/privacy.md).
    "proposals-purge-signatory-data": {
        "task": "proposals.tasks.purge_signatory_data",
        "schedule": schedule(3600.0),
    },
    "debates-phases-announce": {
        "task": "debates.tasks.phases_announce",
        "schedule": schedule(30.0),
    },
    "debates-opinions-stale": {
        "task": "debates.tasks.opinions_recompute_stale",
        "schedule": schedule(60.0),
    },
    "voting-close-due": {"task": "voting.tasks.close_due_elections", "schedule": schedule(15.0)},
}
# Opinion groups are recomputed at most once per this many seconds per debate, after votes.
DEBATES_OPINIONS_DEBOUNCE_SECONDS = env.float("DEBATES_OPINIONS_DEBOUNCE_SECONDS", default=10.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Japanese first; English complete. Times are stored in UTC and shown in Asia/Tokyo.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "mebuku_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded files (council documents) go through Django's storage API: the file system under
# MEDIA_ROOT by default, object storage in production (docs/operations.md, "Uploaded files").
# Nothing serves MEDIA_URL: each download goes through a view that checks who may see it.
STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": env.str(
            "MEBUKU_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("MEBUKU_FILE_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The largest council document accepted (bytes).
MEBUKU_DOCUMENT_MAX_BYTES = env.int("MEBUKU_DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "identity:account"
LOGOUT_REDIRECT_URL = "identity:home"

# allauth: e-mail is the login; verification is mandatory; MFA is open to everyone and required
# for staff by identity.permissions.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Failed sign-ins (password, or a code at the two-step stage) lock out an address, not an account
# (identity/signin.py; docs/decisions.md): allauth's own `login_failed` counts per address across
# accounts; ours count per account at one address (short and hourly) and per account from
# everywhere, a ceiling far above what its owner will ever hit, that bounds a distributed attack.
# identity.account_adapter.AccountAdapter (set below) carries it.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip",
    "login_failed_address": "5/5m/key",
    "login_failed_address_hourly": "15/1h/key",
    "login_failed_account": "100/1h/key",
}
MFA_FORMS = {"authenticate": "identity.signin.AuthenticateForm"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Mebuku"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
SOCIALACCOUNT_ONLY = False
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "identity.session_tokens.OneReadSessionTokenStrategy"  # noqa: S105  # (a class path)  # nosec B105
HEADLESS_FRONTEND_URLS: dict[str, str] = {}
# Residents verify through their municipality's OpenID Connect provider (identity.oidc): one
# hidden allauth app per municipality, set up on /staff/identity-provider/. Tokens are not kept.
SOCIALACCOUNT_ADAPTER = "identity.oidc.SocialAccountAdapter"
ACCOUNT_ADAPTER = "identity.account_adapter.AccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"SCOPE": ["openid", "profile", "address"], "OAUTH_PKCE_ENABLED": True},
}
SOCIALACCOUNT_STORE_TOKENS = False

DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Mebuku <noreply@localhost>")
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)

# Keyed hashes of identity keys and voter aliases (identity issue) use this secret, never
# SECRET_KEY, so rotating sessions does not orphan verifications.
IDENTITY_HMAC_KEY: str = env.str("MEBUKU_IDENTITY_HMAC_KEY", default="")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A body above this (JSON, form fields; not multipart files) answers 413 (config/errors.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Content-Security-Policy (django-csp): scripts, styles and everything else from this origin only;
# no inline script or style anywhere (tests/security/test_headers.py scans the templates). `data:`
# images: allauth shows the TOTP set-up QR code as a data URI. WebSockets are `'self'` (CSP 3).
# No `form-action`: browsers apply it to the redirect after a POST, which would stop the sign-in
# at a municipality's OpenID Connect provider.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): passkeys (WebAuthn, two-step sign-in) for this
# origin; every powerful feature the site never uses is off for it and for anything it embeds.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
    **{
        feature: []
        for feature in (
            "accelerometer",
            "autoplay",
            "bluetooth",
            "browsing-topics",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "screen-wake-lock",
            "serial",
            "usb",
        )
    },
}

# The cache's ignored errors (Redis down) are logged on this logger, once a minute at most.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "mebuku.cache_outage"

# One JSON object per line (MEBUKU_LOG_FORMAT=json, the production default) or plain text, each
# with the request id. Messages never carry personal data: Django's request log names the path
# only (no query string), and the project logs ids, never names, e-mails or reset keys.
LOG_FORMAT = env.str("MEBUKU_LOG_FORMAT", default="text")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_id.RequestIdFilter"},
        "once_a_minute": {"()": "config.logging.OncePerInterval", "seconds": 60.0},
        "redact": {"()": "config.logging.RedactSecrets"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "celery": {"level": "WARNING"},
        # WeasyPrint (signature sheets) logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # uvicorn's access log names every path (a password-reset link's key among them): through
        # our handler and its redaction rather than uvicorn's own.
        "uvicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "mebuku.cache_outage": {"level": "WARNING", "filters": ["once_a_minute"]},
    },
}

# Without a worker and beat (the embedded default) the audit log is sealed right after each commit;
# with Redis, Celery beat seals every few seconds so writers never wait for the sealer.
AUDIT_SEAL_AFTER_COMMIT = not REDIS_URL

# Who may read /metrics (config/metrics.py): the monitoring host(s), by address.
METRICS_ALLOWED_IPS = env.list("MEBUKU_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

# Each app adds its demo seeder here (run in order by `manage.py seed_demo`), so identity/ needs to
# know nothing of the apps built on it.
MEBUKU_DEMO_SEEDERS = [
    "identity.demo.seed",
    "proposals.demo.seed",
    "debates.demo.seed",
    "voting.demo.seed",
]

# Each app's privacy module (identity.privacy.PrivacyProvider): what it exports to a person and
# erases when they delete their account, so identity/ needs to know nothing of the apps.
MEBUKU_PRIVACY_PROVIDERS = ["proposals.privacy", "debates.privacy", "voting.privacy"]
# Sections other apps add to My account (identity.account_sections), in this order.
MEBUKU_ACCOUNT_SECTIONS = ["proposals.account.committee_invitations"]

# Every public download, for the open data page and zip (identity.opendata), in this order.
MEBUKU_OPEN_DATA = [
    "proposals.opendata.DATASETS",
    "debates.opendata.DATASETS",
    "voting.opendata.DATASETS",
]

# Password links (e-mailed resets and the counter's printed letters) work for 7 days: long enough
# for a letter taken home, and each link stops working once used.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600
