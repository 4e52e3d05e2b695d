"""Issue 15, defect 9: the municipality home shows what is open now in proposals, debates and
elections; /favicon.ico exists."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from tests.factories import DebateFactory, ProposalFactory, ProposalTypeFactory, verified
from tests.voting.conftest import Scenario, office, scenario, trustee_keys  # noqa: F401

pytestmark = pytest.mark.django_db


def _card(page: str, key: str) -> str:
    """The HTML of one card: from its opening tag to the next card or the end of the list."""
    start = page.index(f'data-card="{key}"')
    ends = [i for i in (page.find("data-card=", start + 1), page.find('id="open-data"')) if i > 0]
    return page[start : min(ends)]


def test_home_shows_open_debates_and_elections(client: Client, scenario: Scenario) -> None:  # noqa: F811
    town = scenario.town
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    DebateFactory(municipality=town, question="図書館のこれから", phases=["diverge"])
    open_debate = DebateFactory(
        municipality=town, question="駅前広場をどう使う？", phases=["converge"]
    )
    DebateFactory(municipality=town, question="終わった話し合い", phases=["conclude"])
    page = client.get("/m/maebashi/").content.decode()

    proposals = _card(page, "proposals")
    assert "1件の提案が署名を集めています" in proposals
    assert f'href="/m/maebashi/proposals/{proposal.pk}/"' in proposals

    debates = _card(page, "debates")
    assert 'href="/m/maebashi/debates/"' in debates
    assert "2件の話し合いに参加できます" in debates
    assert f'href="/m/maebashi/debates/{open_debate.pk}/"' in debates
    assert "終わった話し合い" not in debates

    elections = _card(page, "elections")
    assert 'href="/m/maebashi/elections/"' in elections
    assert "1件の投票を受け付けています" in elections
    assert f'href="/m/maebashi/elections/{scenario.election.pk}/"' in elections

    scenario.close_and_decrypt()
    closed = _card(client.get("/m/maebashi/").content.decode(), "elections")
    assert "投票を受け付けている選挙はありません" in closed


def _body(response: Any) -> bytes:
    if not response.streaming:
        return bytes(response.content)
    chunks = response.streaming_content
    if hasattr(chunks, "__aiter__"):  # servestatic answers asynchronously

        async def collect() -> bytes:
            return b"".join([chunk async for chunk in chunks])

        return async_to_sync(collect)()
    return b"".join(chunks)


def test_favicon(client: Client) -> None:
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    icon = _body(response)
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page
