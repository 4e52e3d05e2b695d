"""The signature chart (issue 15, defect 7): every signature on it, axes, goal and deadline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone, translation

from identity.eligibility import TOKYO
from identity.models import Municipality
from proposals import selectors, services
from proposals.charts import ChartData, chart_description, chart_svg
from proposals.models import Proposal, Signature
from tests.factories import ProposalFactory, ProposalTypeFactory, verified

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def _collecting(town: Municipality, threshold: int = 10) -> Proposal:
    return ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=threshold), collecting=True
    )


def _sign(town: Municipality, proposal: Proposal, count: int) -> None:
    for _ in range(count):
        services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)


def _texts(svg: str) -> list[str]:
    """Every text of the SVG (axis labels, titles, legend), as a reader or a screenshot shows it."""
    root = ElementTree.fromstring(svg)  # noqa: S314  (our own chart, not untrusted input)
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_signatures_dated_outside_the_period_are_on_the_chart(town: Municipality) -> None:
    """Demo proposals 10 and 11 were flat at zero: their period was moved into the past after
    signing, so every signature fell after the last day the chart covered."""
    proposal = _collecting(town)
    _sign(town, proposal, 3)
    now = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=now - timedelta(days=31), collection_closes_at=now - timedelta(days=1)
    )
    proposal.refresh_from_db()
    daily = selectors.daily_signatures(proposal)
    assert daily[-1][2] == 3 == Signature.objects.filter(proposal=proposal).count()
    assert daily[0][0] == (now - timedelta(days=31)).astimezone(TOKYO).date()
    assert daily[-1][0] == now.astimezone(TOKYO).date()


def test_the_demo_spreads_backdated_signatures_over_their_period(town: Municipality) -> None:
    from proposals.demo import _backdate_and_close

    proposal = _collecting(town, threshold=50)
    _sign(town, proposal, 4)
    _backdate_and_close(proposal, days_ago=1)
    proposal.refresh_from_db()
    assert proposal.collection_opens_at is not None and proposal.collection_closes_at is not None
    times = list(Signature.objects.filter(proposal=proposal).values_list("signed_at", flat=True))
    assert all(proposal.collection_opens_at < at < proposal.collection_closes_at for at in times), (
        times
    )
    daily = selectors.daily_signatures(proposal)
    assert daily[-1][2] == 4 and sum(1 for _day, count, _t in daily if count) == 4


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _data(days: int, threshold: int | None = 50) -> ChartData:
    start = date(2026, 11, 1)
    daily = [(start + timedelta(days=i), 2, 2 * (i + 1)) for i in range(days)]
    return ChartData(daily, threshold, date(2026, 11, 30))


@pytest.mark.parametrize("size", ["narrow", "wide"])
def test_the_chart_has_dated_axes_goal_and_deadline(size: str, english: None) -> None:
    svg = chart_svg(_data(6), size)
    texts = _texts(svg)
    assert "Number of signatures" in texts and any(t.startswith("Date, 2026") for t in texts)
    # The time axis is dated from the first day to the deadline; the count axis starts at 0.
    assert "11/1" in texts and "11/30" in texts and "0" in texts and "50" in texts
    assert texts.count("Goal: 50") >= 2  # on the line and in the legend
    assert "Collection closes: 2026-11-30" in texts
    assert 'class="line reactive nofill"' in svg and "<script" in svg  # pygal's config only


def test_a_one_day_history_still_has_a_time_axis(english: None) -> None:
    texts = _texts(chart_svg(_data(1), "narrow"))
    assert "11/1" in texts and "11/30" in texts
    assert "No data" not in texts


def test_without_a_goal_there_is_no_goal_line(english: None) -> None:
    texts = _texts(chart_svg(_data(3, threshold=None), "wide"))
    assert not any(t.startswith("Goal") for t in texts)
    assert "Collection closes: 2026-11-30" in texts


def test_the_description_says_what_the_chart_shows(english: None) -> None:
    assert chart_description(_data(6)) == (
        "From 2026-11-01 to 2026-11-06, 12 signatures were collected. The goal is 50. "
        "Collection closes on 2026-11-30."
    )


def test_chart_pages(town: Municipality) -> None:
    proposal = _collecting(town)
    _sign(town, proposal, 2)
    client = Client(headers={"accept-language": "en"})
    page = client.get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert f'src="/m/maebashi/proposals/{proposal.pk}/chart-narrow.svg"' in page
    assert f'srcset="/m/maebashi/proposals/{proposal.pk}/chart-wide.svg"' in page
    assert re.search(r'id="chart-description">[^<]*2 signatures were collected', page)
    for size in ("narrow", "wide"):
        response = client.get(f"/m/maebashi/proposals/{proposal.pk}/chart-{size}.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
        policy = response["Content-Security-Policy"]
        assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'none'" in policy
        assert "Goal: 10" in _texts(response.content.decode())
    # The page itself keeps the strict policy.
    assert (
        "unsafe-inline"
        not in client.get(f"/m/maebashi/proposals/{proposal.pk}/")["Content-Security-Policy"]
    )
    draft = ProposalFactory(type=proposal.type)
    assert client.get(f"/m/maebashi/proposals/{draft.pk}/chart-wide.svg").status_code == 404
    # Its author sees the draft, which has no collection yet: no chart, and no error.
    author = Client()
    author.force_login(draft.author)
    assert author.get(f"/m/maebashi/proposals/{draft.pk}/").status_code == 200
    assert author.get(f"/m/maebashi/proposals/{draft.pk}/chart-narrow.svg").status_code == 404


def test_an_empty_chart_still_draws(english: None) -> None:
    texts = _texts(chart_svg(ChartData([], 10, None), "narrow"))
    assert "Number of signatures" in texts and not any(t.startswith("Goal") for t in texts)


def test_the_chart_speaks_japanese() -> None:
    texts = _texts(chart_svg(_data(6), "narrow"))
    assert "署名数" in texts and "目標: 50" in texts and "署名の締切: 2026-11-30" in texts
    assert chart_description(_data(6)) == (
        "2026-11-01から2026-11-06までに12筆の署名が集まりました。目標は50筆です。"
        "署名の受付は2026-11-30までです。"
    )
