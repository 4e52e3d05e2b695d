"""Issue 15, defect 9: searching `wifi` finds 「Wi-Fi」 — width, case, hyphens, long vowels and
hiragana/katakana are folded alike in the stored search text and in the query."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client

from identity.models import Municipality, User
from proposals.models import Proposal
from proposals.services import ProposalDraft, collection_open, proposal_file
from tests.factories import ProposalTypeFactory, verified

pytestmark = pytest.mark.django_db


def _open(town: Municipality, author: User, title: str) -> Proposal:
    kind = ProposalTypeFactory(municipality=town, name=f"type-{title}")
    draft = proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=ProposalDraft(title=title, summary="概要", body="本文"),
    )
    return collection_open(actor=author, municipality=town, proposal_id=draft.pk)


def _found(client: Client, query: str) -> list[int]:
    page = client.get("/m/maebashi/proposals/", {"q": query}).context["page"]
    return sorted(p.pk for p in page.object_list)


@pytest.fixture
def proposals(town: Municipality) -> dict[str, int]:
    author = verified(town)
    titles = {
        "wifi": "公共施設の無料Wi-Fi整備",
        "computer": "コンピューター教室の開設",
        "apple": "りんご農園の支援",
        "orange": "ミカン畑の保全",
    }
    return {key: _open(town, author, title).pk for key, title in titles.items()}


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("wifi", "wifi"),
        ("WIFI", "wifi"),
        ("ｗｉｆｉ", "wifi"),  # full width
        ("wi‐fi", "wifi"),  # U+2010 hyphen
        ("Ｗｉ－Ｆｉ", "wifi"),
        ("コンピュータ", "computer"),  # without the long-vowel mark
        ("ｺﾝﾋﾟｭｰﾀｰ", "computer"),  # half-width katakana with ｰ
        ("コンピュ−タ−", "computer"),  # U+2212 minus used as a long vowel
        ("リンゴ", "apple"),  # katakana finds hiragana
        ("みかん", "orange"),  # hiragana finds katakana
    ],
)
def test_folded_queries_find_the_proposal(
    client: Client, proposals: dict[str, int], query: str, key: str
) -> None:
    assert _found(client, query) == [proposals[key]]


def test_the_api_searches_the_same_way(client: Client, proposals: dict[str, int]) -> None:
    listed = client.get("/api/v1/municipalities/maebashi/proposals", {"q": "wifi"}).json()
    assert [p["id"] for p in listed["results"]] == [proposals["wifi"]]


def test_existing_search_texts_are_refolded(client: Client, proposals: dict[str, int]) -> None:
    # As stored before: NFKC and lower case only.
    Proposal.objects.filter(pk=proposals["wifi"]).update(
        search_text="公共施設の無料wi-fi整備 概要 本文"
    )
    assert _found(client, "wifi") == []
    migration = importlib.import_module("proposals.migrations.0008_search_text_folded")
    migration.refold(apps, None)
    assert _found(client, "wifi") == [proposals["wifi"]]
