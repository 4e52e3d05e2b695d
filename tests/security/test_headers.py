"""Issue 13, point 6: a Content-Security-Policy with no inline script or style on every page, a
Permissions-Policy, and `Cache-Control: no-store` on every page and download with personal data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.test import Client

from identity.models import Municipality, Role
from proposals import services
from proposals.models import Proposal, Status
from tests.factories import (
    ElectionFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    logged_in,
    session_token,
    staff,
    verified,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]

INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
DATA_SCRIPT = re.compile(r"""type\s*=\s*["']application/(ld\+)?json["']""", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    """Each inline script, style element, style attribute or event handler in `html`: what the
    policy would block. A `<script src=…>` and a JSON data block are not code run inline."""
    found = [m[0] for m in INLINE_STYLE.finditer(html)]
    found += [m[0] for m in EVENT_HANDLER.finditer(html)]
    for match in SCRIPT_TAG.finditer(html):
        attributes = match[1]
        if "src=" not in attributes and not DATA_SCRIPT.search(attributes):
            found.append(match[0])
    return found


def test_no_template_has_inline_script_or_style() -> None:
    templates = [p for folder in TEMPLATE_DIRS for p in folder.rglob("*.html")]
    assert len(templates) > 50  # the scan found the templates
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in templates
        if (found := inline_code(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_scan_finds_what_it_looks_for() -> None:
    assert inline_code('<p style="width: 3%">') and inline_code("<style>p{}</style>")
    assert inline_code("<script>alert(1)</script>") and inline_code('<a onclick="x()">')
    assert inline_code('<script nomodule>document.querySelector("p")</script>')
    assert not inline_code('<script nomodule src="/static/x.js"></script>')
    assert not inline_code('<script type="application/json" id="d">{"a": 1}</script>')
    assert not inline_code('<div data-style="x" class="progress-bar">')


# Headers on every kind of page ------------------------------------------------------------------


def _certifying(town: Municipality) -> Proposal:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=1, certification_required=True)
    author = verified(town)
    proposal = ProposalFactory(type=kind, author=author, collecting=True)
    for _ in range(2):
        services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
    services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.CERTIFICATION
    return proposal


def assert_policies(response: Any) -> None:
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp
    policy = response["Permissions-Policy"]
    assert "publickey-credentials-get=(self)" in policy
    assert "publickey-credentials-create=(self)" in policy
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy


def test_policies_on_public_pages_api_and_errors(town: Municipality) -> None:
    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), collecting=True)
    client = Client()
    pages = [
        "/m/maebashi/",
        "/m/maebashi/proposals/",
        f"/m/maebashi/proposals/{proposal.pk}/",
        "/m/maebashi/debates/",
        "/m/maebashi/elections/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/m/maebashi/proposals/proposals.csv",
        "/api/v1/municipalities/maebashi/proposals",
        "/api/v1/docs",
        "/m/maebashi/no-such-page/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_policies(response)
        if response["Content-Type"].startswith("text/html"):
            assert inline_code(response.content.decode()) == [], url


def test_policies_and_no_inline_code_on_signed_in_pages(town: Municipality) -> None:
    resident = verified(town)
    election = ElectionFactory(municipality=town)
    office = staff(town, Role.ELECTION_OFFICE)
    admin = staff(town, Role.ADMINISTRATOR)
    pages = [
        (resident, "/m/maebashi/account/"),
        (resident, "/accounts/email/"),
        (resident, "/accounts/2fa/"),
        (resident, "/accounts/reauthenticate/"),
        (resident, "/accounts/password/change/"),
        (resident, "/m/maebashi/proposals/new/"),
        (resident, "/m/maebashi/elections/mine/"),
        (admin, "/m/maebashi/staff/"),
        (admin, "/m/maebashi/staff/audit/"),
        (office, f"/m/maebashi/elections/office/{election.pk}/"),
    ]
    for user, url in pages:
        response = logged_in(user).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_policies(response)
        assert inline_code(response.content.decode()) == [], url


# No copies of personal data in any cache --------------------------------------------------------


def test_pages_and_downloads_with_personal_data_are_no_store(town: Municipality) -> None:
    """Every route that shows people (found by reading the URLconfs: My account, the counter, the
    audit log, role lists, the signatory list and certification, the voter roll report), asked
    by the person allowed to see it."""
    proposal = _certifying(town)
    resident = verified(town)
    office = staff(town, Role.ELECTION_OFFICE)
    admin = staff(town, Role.ADMINISTRATOR)
    clerk = staff(town, Role.COUNTER_CLERK)
    council = staff(town, Role.COUNCIL)
    election = ElectionFactory(municipality=town)
    routes = [
        (resident, "/m/maebashi/account/"),
        (resident, "/m/maebashi/verification/"),
        (resident, "/accounts/email/"),
        (resident, "/m/maebashi/elections/mine/"),
        (admin, "/m/maebashi/staff/"),
        (admin, "/m/maebashi/staff/roles/"),
        (admin, "/m/maebashi/staff/audit/"),
        (admin, "/m/maebashi/staff/audit.csv"),
        (clerk, "/m/maebashi/staff/counter/"),
        (clerk, f"/m/maebashi/staff/counter/people/{resident.pk}/"),
        (office, "/m/maebashi/proposals/staff/certification/"),
        (office, f"/m/maebashi/proposals/staff/certification/{proposal.pk}/"),
        (office, f"/m/maebashi/proposals/{proposal.pk}/signatories.csv"),
        (office, f"/m/maebashi/elections/office/{election.pk}/"),
        (council, "/m/maebashi/proposals/staff/council/"),
    ]
    for user, url in routes:
        response = logged_in(user).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_api_answers_for_a_token_are_no_store(town: Municipality) -> None:
    token = session_token(verified(town))
    me = Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)
    assert me.status_code == 200
    assert "no-store" in me["Cache-Control"]


def test_public_pages_for_visitors_stay_cacheable(town: Municipality) -> None:
    """The rule is about who asked: the public record, anonymously, carries no no-store."""
    for url in ("/m/maebashi/proposals/", "/m/maebashi/proposals/proposals.csv"):
        response = Client().get(url)
        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", ""), url
    signed_in = logged_in(UserFactory()).get("/m/maebashi/proposals/")
    assert "no-store" in signed_in["Cache-Control"]
