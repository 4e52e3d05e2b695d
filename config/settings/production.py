"""Production: every secret from the environment; passes `manage.py check --deploy`."""

from .base import *  # noqa: F403
from .base import DATABASES, LOGGING, REDIS_URL, STORAGES, env

DEBUG = False
if env.str("MEBUKU_LOG_FORMAT", default="json") == "json":
    LOGGING["handlers"]["console"]["formatter"] = "json"
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
# Rotation (docs/operations.md): the previous keys still verify sessions and links for a while.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
IDENTITY_HMAC_KEY = env.str("MEBUKU_IDENTITY_HMAC_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Under ASGI Django runs each request's sync code in a thread of its own, so persistent connections
# (CONN_MAX_AGE) pile up one per thread until PostgreSQL refuses clients ("too many clients already"
# at 32 concurrent signers, bench/signatures.py). A psycopg pool per worker process bounds them and
# hands a warm connection to each request instead.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DJANGO_DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DJANGO_DB_POOL_MAX_SIZE", default=8),
        "timeout": env.float("DJANGO_DB_POOL_TIMEOUT", default=10.0),
    }

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)

# Sessions (browser cookies and the API's X-Session-Token) are read on every request: serve them
# from Redis and keep PostgreSQL as the durable copy, so a Redis restart only costs a cache miss.
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
