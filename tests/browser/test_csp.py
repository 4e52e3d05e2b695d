"""The Content-Security-Policy in a real browser (issue 13, point 6): every checked page fails on
anything the policy blocks (tests/browser/conftest.py); here the guard itself, and the pages whose
look depended on inline styles."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from pytest_django.live_server_helper import LiveServer

from identity.models import Municipality
from proposals import services
from tests.browser.conftest import HOME, OpenPage, outside_playwright_loop
from tests.factories import ProposalFactory, ProposalTypeFactory, verified


def test_the_csp_guard_itself(open_page: OpenPage, maebashi: Municipality) -> None:
    """An inline script or style is blocked by the browser, and the check says so."""
    page = open_page()
    page.goto(HOME)
    page.page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.ran = true";
          document.body.appendChild(script);
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        }"""
    )
    assert page.page.evaluate("window.ran === undefined")
    page.page.wait_for_function("() => true")  # let the console events arrive
    with pytest.raises(pytest.fail.Exception, match="Content-Security-Policy blocked"):
        page.check(new_document=False)


def test_progress_bar_is_drawn_without_inline_style(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    """The bar (an SVG rect whose width is an attribute) shows 1 of 4 signatures as a quarter,
    without JavaScript."""
    with outside_playwright_loop():
        kind = ProposalTypeFactory(municipality=maebashi, threshold_fixed=4)
        proposal = ProposalFactory(type=kind, author=verified(maebashi), collecting=True)
        services.signature_add(
            actor=verified(maebashi), municipality=maebashi, proposal_id=proposal.pk
        )
    page = open_page(java_script_enabled=False)
    page.goto(f"{HOME}proposals/{proposal.pk}/")
    track = page.locator("[data-progress] svg").bounding_box()
    bar = page.locator("[data-progress] rect").bounding_box()
    assert track is not None and bar is not None and track["width"] > 100
    assert abs(bar["width"] - track["width"] / 4) < 1


def test_api_documentation_runs_under_the_policy(
    chromium_browser: Browser, live_server: LiveServer, maebashi: Municipality
) -> None:
    """Swagger UI (ninja's bundled copy, served from here) renders with nothing blocked. Opened
    outside `CheckedPage`: this third-party page fails axe-core (contrast, no `lang`, nested
    controls), which is Swagger UI's to fix, not what this test is about."""
    context = chromium_browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        blocked: list[str] = []
        page.on(
            "console",
            lambda message: (
                blocked.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        response = page.goto(f"{HOME}api/v1/docs")
        assert response is not None
        assert "script-src 'self'" in (response.header_value("content-security-policy") or "")
        page.wait_for_selector(".swagger-ui .info", timeout=15_000)
        assert "Mebuku API" in page.inner_text(".swagger-ui .info")
        assert blocked == []
    finally:
        context.close()
