"""Developer machine: `make run`. Embedded defaults, a fixed development secret."""

from .base import *  # noqa: F403
from .base import IDENTITY_HMAC_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
IDENTITY_HMAC_KEY = IDENTITY_HMAC_KEY or "local-development-identity-key"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = True
