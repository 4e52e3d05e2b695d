"""A real OpenID Connect provider for tests, in its own process, and a resident's browser at it.

The provider is node-oidc-provider (tests/oidc/, `npm ci --prefix tests/oidc`); `start_provider`
runs it on a free 127.0.0.1 port and waits for its discovery document; `sign_in` plays the
resident at its login and consent pages with urllib and returns the URL the provider redirects
to (our callback with `code`, `state` and `iss`), without following it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_PACKAGE = PROVIDER_DIR / "node_modules" / "oidc-provider"
NODE = shutil.which("node")
WELL_KNOWN = "/.well-known/openid-configuration"

# For every test that starts the provider: skipped with the reason without Node.js or the package,
# failed instead under MEBUKU_REQUIRE_SERVICES=1 (tests/conftest.py).
needs_provider = pytest.mark.node(PROVIDER_PACKAGE)


def missing_requirement() -> str | None:
    """Why the provider cannot run here, or None."""
    if NODE is None:
        return "needs Node.js (`node`) for the test OpenID Connect provider"
    if not PROVIDER_PACKAGE.is_dir():
        return "needs the test OpenID Connect provider: npm ci --prefix tests/oidc"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str
    code_ttl: int = 60


@dataclass
class OidcProvider:
    port: int
    process: subprocess.Popen[bytes]
    clients: list[Client] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_provider(
    clients: list[Client], accounts: dict[str, dict[str, Any]], *, timeout: float = 15.0
) -> OidcProvider:
    """Run the provider on a free port; return once its discovery document answers."""
    reason = missing_requirement()
    if reason is not None:
        raise RuntimeError(reason)
    assert NODE is not None
    port = free_port()
    config = {
        "port": port,
        "clients": [
            {
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "redirect_uris": [c.redirect_uri],
                "code_ttl": c.code_ttl,
            }
            for c in clients
        ],
        "accounts": accounts,
    }
    process = subprocess.Popen(
        [NODE, str(PROVIDER_DIR / "provider.mjs")],
        cwd=PROVIDER_DIR,
        env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    provider = OidcProvider(port=port, process=process, clients=clients)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the test OIDC provider exited ({process.returncode}): {stderr}")
        try:
            discovery = provider.issuer + WELL_KNOWN  # http://127.0.0.1:<port>, ours
            with urllib.request.urlopen(discovery, timeout=1) as response:  # noqa: S310
                if json.load(response).get("issuer") == provider.issuer:
                    return provider
        except (OSError, ValueError):
            time.sleep(0.05)
    provider.stop()
    raise RuntimeError("the test OIDC provider did not answer in time")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
_PROMPT = re.compile(r'name="prompt" value="([a-z]+)"')


def sign_in(authorize_url: str, login: str, *, max_steps: int = 12) -> str:
    """Sign in as `login` and consent; return the redirect to the client (not followed)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
    )
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(authorize_url))
    url, data = authorize_url, None
    for _ in range(max_steps):
        try:
            with opener.open(url, data=data, timeout=5) as response:
                status, body, location = response.status, response.read().decode(), None
        except urllib.error.HTTPError as error:
            status, body, location = error.code, error.read().decode(), error.headers["Location"]
        if location is not None and 300 <= status < 400:
            url, data = urllib.parse.urljoin(url, location), None
            if not url.startswith(origin + "/"):
                return url  # back to the client: our callback
            continue
        prompt, action = _PROMPT.search(body), _FORM_ACTION.search(body)
        if status != 200 or prompt is None or action is None:
            raise AssertionError(f"unexpected page from the provider ({status}): {body[:500]}")
        fields = {"prompt": prompt.group(1)}
        if prompt.group(1) == "login":
            fields |= {"login": login, "password": "not-checked"}
        url = urllib.parse.urljoin(url, action.group(1))
        data = urllib.parse.urlencode(fields).encode()
    raise AssertionError("the provider never redirected back to the client")
