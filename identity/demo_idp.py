"""The demo's identity providers: node-oidc-provider (the same one the tests run,
tests/oidc/provider.mjs), one process per demo municipality, each with its own residents.

`manage.py demo_idp` runs them (`make run` starts it beside the site); the demo seeder registers
each as its municipality's identity provider through the same service an administrator uses. The
login page is the package's development page: any listed login signs in, the password is not
checked. Demo identities are public and documented in the README ("Demo municipal ID").
"""

from __future__ import annotations

import os
from typing import Any

# Ports of the providers, in the order of identity.demo.MUNICIPALITIES (maebashi, kamakura).
FIRST_PORT = int(os.environ.get("MEBUKU_DEMO_IDP_PORT", "8101"))
SLUGS = ("maebashi", "kamakura")

# Public, documented demo credentials (never a real provider's).
CLIENT_SECRET = "mebuku-demo-idp-secret"  # noqa: S105  # (public demo)  # nosec B105

# Residents known to each municipality's provider (login → OpenID Connect claims). 次郎 is the
# person behind the demo account `unverified@<slug>.example.jp`; the others are for new accounts.
IDENTITIES: dict[str, dict[str, dict[str, Any]]] = {
    "maebashi": {
        "jiro": {
            "name": "未確認 次郎",
            "birthdate": "1990-05-05",
            "address": {"formatted": "群馬県前橋市大手町二丁目12番1号"},
        },
        "hanako": {
            "name": "前橋 花子",
            "birthdate": "1985-10-10",
            "address": {"formatted": "群馬県前橋市本町一丁目3番5号"},
        },
        "ken": {
            "name": "赤城 健",
            "birthdate": "1958-01-20",
            "address": {"formatted": "群馬県前橋市千代田町四丁目8番2号"},
        },
    },
    "kamakura": {
        "jiro": {
            "name": "未確認 次郎",
            "birthdate": "1990-05-05",
            "address": {"formatted": "神奈川県鎌倉市御成町18番10号"},
        },
        "hanako": {
            "name": "鎌倉 花子",
            "birthdate": "1985-10-10",
            "address": {"formatted": "神奈川県鎌倉市由比ガ浜二丁目1番1号"},
        },
        "ken": {
            "name": "若宮 健",
            "birthdate": "1958-01-20",
            "address": {"formatted": "神奈川県鎌倉市雪ノ下三丁目5番7号"},
        },
    },
}

NAMES = {"maebashi": "前橋市ID（デモ）", "kamakura": "鎌倉市ID（デモ）"}
DEFAULT_SITES = ("http://127.0.0.1:8000", "http://localhost:8000")


def port(slug: str) -> int:
    return FIRST_PORT + SLUGS.index(slug)


def issuer(slug: str) -> str:
    """The provider's issuer (provider.mjs listens on 127.0.0.1 and names itself so)."""
    return f"http://127.0.0.1:{port(slug)}"


def client_id(slug: str) -> str:
    return f"mebuku-demo-{slug}"


def callback_path(slug: str) -> str:
    """Where the provider sends the resident back (allauth's callback under /m/<slug>/)."""
    return f"/m/{slug}/accounts/oidc/municipal-{slug}/login/callback/"


def provider_config(slug: str, sites: tuple[str, ...] = DEFAULT_SITES) -> dict[str, Any]:
    """provider.mjs's configuration (OIDC_TEST_CONFIG) for this municipality's provider."""
    return {
        "port": port(slug),
        "clients": [
            {
                "client_id": client_id(slug),
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [site.rstrip("/") + callback_path(slug) for site in sites],
                "code_ttl": 120,
            }
        ],
        "accounts": IDENTITIES[slug],
    }
