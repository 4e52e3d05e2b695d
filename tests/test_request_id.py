"""Every response carries a request id, and every log line written while handling it names it
(JSON lines in production)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from config.request_id import HEADER, RequestIdFilter

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_a_response_carries_a_request_id_kept_from_the_proxy_when_well_formed() -> None:
    client = Client()
    made = client.get("/healthz")[HEADER]
    assert len(made) == 32 and int(made, 16) >= 0
    assert client.get("/healthz")[HEADER] != made
    assert client.get("/healthz", headers={HEADER: "edge-1234abcd"})[HEADER] == "edge-1234abcd"
    forged = client.get("/healthz", headers={HEADER: "x\n<script>"})[HEADER]
    assert forged != "x\n<script>" and len(forged) == 32


def test_log_lines_name_the_request_as_json() -> None:
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(request_id)s %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = Client().get("/no-such-page/")  # Django logs a warning for the 404
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "nothing logged"
    assert all(line["request_id"] == response[HEADER] for line in lines), (lines, response[HEADER])
    assert lines[0]["levelname"] == "WARNING" and "/no-such-page/" in lines[0]["message"]


def test_production_logs_json_lines() -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "MEBUKU_IDENTITY_HMAC_KEY": "k",
        "DJANGO_ALLOWED_HOSTS": "example.jp",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import django, logging; django.setup(); logging.getLogger('mebuku.test').warning('hello')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "mebuku.test"
    assert line["message"] == "hello" and line["request_id"] == "-"
