"""Issue 15, defects 1 and 7, in a real browser with axe-core on every page: the signature chart
has its axes, goal and deadline on a phone and on a desktop screen; the first-listed way to verify
(the municipal ID) works against the demo's own identity provider."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from identity import demo_idp
from identity.demo import DEMO_PASSWORD
from identity.models import Municipality, User, Verification, VerificationMethod
from proposals import services
from proposals.models import Proposal, Signature
from tests.browser.conftest import MAIN_SUBMIT, OpenPage, outside_playwright_loop
from tests.browser.test_identity import OIDC_TIMEOUT_MS, at_third_party
from tests.factories import ProposalFactory, ProposalTypeFactory, verified
from tests.oidc_provider import WELL_KNOWN, needs_provider

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"

# How many of the image's pixels have each colour of the chart (canvas: same-origin SVG).
_COLOUR_PIXELS = """([selector, colours]) => {
  const img = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const counts = colours.map(() => 0);
  for (let i = 0; i < data.length; i += 4) {
    colours.forEach(([r, g, b], k) => {
      if (Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24
          && Math.abs(data[i + 2] - b) < 24) counts[k] += 1;
    });
  }
  return {width: img.naturalWidth, src: img.currentSrc, counts};
}"""
TOTAL, GOAL, DEADLINE = (0x1A, 0x5E, 0x20), (0xA3, 0x3A, 0x00), (0x4A, 0x4A, 0x4A)


def _proposal_with_history(town: Municipality) -> Proposal:
    """Collecting for a week, goal 10, six signatures over four days."""
    with outside_playwright_loop():
        proposal = ProposalFactory(
            type=ProposalTypeFactory(municipality=town, threshold_fixed=10), collecting=True
        )
        for _ in range(6):
            services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
        now = timezone.now()
        Proposal.objects.filter(pk=proposal.pk).update(
            collection_opens_at=now - timedelta(days=6),
            collection_closes_at=now + timedelta(days=20),
        )
        for index, signature in enumerate(Signature.objects.filter(proposal=proposal)):
            signature.signed_at = now - timedelta(days=5 - index % 4)
            signature.save(update_fields=["signed_at"])
    return proposal


@pytest.mark.parametrize(
    ("viewport", "size"),
    [({"width": 360, "height": 800}, "narrow"), ({"width": 1280, "height": 900}, "wide")],
)
def test_the_chart_shows_axes_goal_and_deadline(
    open_page: OpenPage, maebashi: Municipality, viewport: dict[str, int], size: str, tmp_path: Path
) -> None:
    proposal = _proposal_with_history(maebashi)
    page = open_page(viewport=viewport)
    page.goto(f"{HOME}proposals/{proposal.pk}/")
    image = page.locator("figure.chart img")
    image.scroll_into_view_if_needed()
    page.page.wait_for_function(
        "document.querySelector('figure.chart img').complete"
        " && document.querySelector('figure.chart img').naturalWidth > 0"
    )
    shot = tmp_path / f"chart-{size}.png"
    image.screenshot(path=shot)
    assert shot.stat().st_size > 2000
    box = image.bounding_box()
    assert box is not None and box["width"] <= viewport["width"]
    drawn = page.page.evaluate(
        _COLOUR_PIXELS, ["figure.chart img", [list(TOTAL), list(GOAL), list(DEADLINE)]]
    )
    assert drawn["src"].endswith(f"/chart-{size}.svg"), drawn
    total, goal, deadline = drawn["counts"]
    assert total > 50 and goal > 50 and deadline > 50, drawn
    # At a phone's width the chart is drawn narrow, not a wide drawing shrunk to illegibility.
    assert drawn["width"] == (340 if size == "narrow" else 760)
    assert box["width"] >= min(300, viewport["width"] - 40)

    svg = page.page.request.get(drawn["src"]).text()
    for text in ("署名数", "日付（", "目標: 10", "署名の締切: "):
        assert text in svg, text
    description = page.text("#chart-description")
    assert "6筆の署名が集まりました" in description and "目標は10筆です" in description
    assert image.get_attribute("aria-describedby") == "chart-description"
    assert page.locator("figure.chart + .table-wrap table tbody tr").count() == 7


def test_without_javascript_the_chart_and_table_are_there(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    proposal = _proposal_with_history(maebashi)
    page = open_page(java_script_enabled=False, viewport={"width": 360, "height": 800})
    page.goto(f"{HOME}proposals/{proposal.pk}/")
    assert page.locator("figure.chart picture img").count() == 1
    assert page.locator("figure.chart + .table-wrap table").count() == 1


# The demo's identity providers, run by `manage.py demo_idp` as `make run` runs them -------------

ROOT = Path(__file__).resolve().parents[2]


def _two_free_ports() -> int:
    """A free port whose next one is free too (the demo runs one provider per town)."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two free ports in a row")


@pytest.fixture
def demo_town(
    transactional_db: None, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Municipality]:
    """The demo's people and identity providers (the seeder registers them), and the providers
    running, sending residents back to this live server."""
    port = _two_free_ports()
    monkeypatch.setattr(demo_idp, "FIRST_PORT", port)
    with outside_playwright_loop():
        from identity.demo import seed

        seed()
        town = Municipality.objects.get(slug="maebashi")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "demo_idp", "--site", live_server.url],
        cwd=ROOT,
        env={**os.environ, "MEBUKU_DEMO_IDP_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        waiting = {demo_idp.issuer(slug) for slug in demo_idp.SLUGS}
        while waiting:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the demo identity providers did not start"
            for issuer in list(waiting):
                try:
                    with urllib.request.urlopen(issuer + WELL_KNOWN, timeout=1) as answer:  # noqa: S310
                        if json.load(answer)["issuer"] == issuer:
                            waiting.discard(issuer)
                except OSError:
                    time.sleep(0.1)
        yield town
    finally:
        process.terminate()  # the command stops its providers on SIGTERM
        process.wait(timeout=10)


@needs_provider
def test_a_demo_resident_verifies_with_the_demo_municipal_id(
    open_page: OpenPage, demo_town: Municipality
) -> None:
    page = open_page()
    page.goto(f"{HOME}accounts/login/")
    page.locator("#id_login").fill("unverified@maebashi.example.jp")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.submit(MAIN_SUBMIT)
    page.goto(f"{HOME}verification/")
    ways = page.locator("section[data-status=not_verified] h3 ~ ul").first
    first = ways.locator("li").first
    assert first.inner_text() == "自治体IDで確認（オンライン、いちばん早い方法）"
    page.submit(first.locator("a"))
    assert page.path == f"{HOME}verify/oidc/" and demo_idp.NAMES["maebashi"] in page.text()

    issuer = demo_idp.issuer("maebashi")
    with at_third_party(page, issuer):
        with page.page.expect_navigation(
            url=lambda url: url.startswith(f"{issuer}/interaction/"), timeout=OIDC_TIMEOUT_MS
        ):
            page.locator(MAIN_SUBMIT).click()
        page.page.locator("input[name=login]").fill("jiro")
        page.page.locator("input[name=password]").fill("anything")
        with page.page.expect_navigation(timeout=OIDC_TIMEOUT_MS):
            page.page.locator("form button[type=submit]").click()
        page.page.locator("form button[type=submit]").click()  # consent
        page.page.wait_for_url(f"**{HOME}verification/", timeout=OIDC_TIMEOUT_MS)
    page.check()
    assert page.locator(".message-success").count() == 1
    assert page.locator("section[data-status=verified]").count() == 1, page.text()
    with outside_playwright_loop():
        resident = User.objects.get(email="unverified@maebashi.example.jp")
        verification = Verification.objects.get(user=resident, municipality=demo_town)
    assert verification.method == VerificationMethod.OIDC
    assert verification.legal_name == demo_idp.IDENTITIES["maebashi"]["jiro"]["name"]
