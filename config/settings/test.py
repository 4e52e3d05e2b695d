"""Test suite: `make test`. Fast hashing, mail kept in memory."""

from .base import *  # noqa: F403
from .base import IDENTITY_HMAC_KEY, env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105  # (tests only)  # nosec B105
ALLOWED_HOSTS = ["*"]
IDENTITY_HMAC_KEY = IDENTITY_HMAC_KEY or "test-identity-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Static files found once at start (no per-request re-scan, which would run in a thread).
SERVESTATIC_USE_FINDERS = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]  # allauth: False turns them all off
# A cache of the test process only: a shared Redis cache would carry state (rate limits, flags)
# from one run into the next. Redis itself is exercised through Celery and the channel layer.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests decide themselves when Celery runs for real (tests marked `redis`).
CELERY_TASK_ALWAYS_EAGER = env.bool("MEBUKU_TEST_CELERY_EAGER", default=True)
# Threads in race tests and the Celery test worker must not keep connections to the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
