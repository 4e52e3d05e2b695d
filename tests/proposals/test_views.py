from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from identity.models import Municipality, User
from proposals.models import Proposal, Signature
from proposals.services import ProposalDraft, collection_open, proposal_file
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    logged_in,
    verified,
)

pytestmark = pytest.mark.django_db


def _file(town: Municipality, author: User, title: str, body: str) -> Proposal:
    kind = ProposalTypeFactory(municipality=town, name=f"type-{title}")
    proposal = proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=ProposalDraft(title=title, summary="概要", body=body, category="福祉"),
    )
    return collection_open(actor=author, municipality=town, proposal_id=proposal.pk)


def test_japanese_and_english_search(client: Client, town: Municipality) -> None:
    author = verified(town)
    childcare = _file(town, author, "保育の拡充", "子育て支援を充実させる")
    parks = _file(town, author, "Better parks", "More benches and shade in the PARK")
    for query, expected in [
        ("子育て", [childcare.pk]),
        ("子育て 支援", [childcare.pk]),
        ("ｐａｒｋ", [parks.pk]),  # full-width letters are folded
        ("benches", [parks.pk]),
        ("福祉", sorted([childcare.pk, parks.pk])),
        ("存在しない", []),
    ]:
        page = client.get("/m/maebashi/proposals/", {"q": query}).context["page"]
        assert sorted(p.pk for p in page.object_list) == expected, query


def test_drafts_are_private(client: Client, town: Municipality) -> None:
    author = verified(town)
    kind = ProposalTypeFactory(municipality=town)
    draft = proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=ProposalDraft(title="下書き", summary="s", body="b"),
    )
    assert client.get(f"/m/maebashi/proposals/{draft.pk}/").status_code == 404
    assert logged_in(author).get(f"/m/maebashi/proposals/{draft.pk}/").status_code == 200
    assert draft.pk not in [p.pk for p in client.get("/m/maebashi/proposals/").context["page"]]


def test_sign_through_the_page(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    client = logged_in(signer)
    page = client.get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert f'action="/m/maebashi/proposals/{proposal.pk}/sign/"' in page
    response = client.post(f"/m/maebashi/proposals/{proposal.pk}/sign/", follow=True)
    assert response.status_code == 200
    assert Signature.objects.filter(proposal=proposal, user=signer).exists()
    assert "data-count>1<" in response.content.decode()


def test_ineligible_visitor_is_told_why(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    body = logged_in(UserFactory()).get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert 'data-reason="not_verified"' in body
    body = Client().get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert 'data-reason="not_signed_in"' in body and "/accounts/login/?next=" in body


def test_other_municipality_cannot_see_or_sign(town: Municipality) -> None:
    other = MunicipalityFactory(slug="kamakura")
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(other)
    client = logged_in(signer)
    assert client.get(f"/m/kamakura/proposals/{proposal.pk}/").status_code == 404
    client.post(f"/m/kamakura/proposals/{proposal.pk}/sign/")
    assert not Signature.objects.exists()


def test_markdown_is_sanitised(town: Municipality) -> None:
    author = verified(town)
    proposal = _file(
        town, author, "XSS", "# Head\n<script>alert(1)</script>\n[x](javascript:alert(1))"
    )
    body = Client().get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert "<script>alert" not in body and "javascript:" not in body
    assert "<h2>Head</h2>" in body


def test_list_and_detail_query_counts(
    client: Client, town: Municipality, django_assert_num_queries: Any
) -> None:
    author = verified(town)
    proposals = [_file(town, author, f"提案{i}", "本文") for i in range(5)]
    with django_assert_num_queries(4):  # municipality, count, types, proposals
        client.get("/m/maebashi/proposals/")
    signer = verified(town)
    signed_in = logged_in(signer)
    signed_in.get(f"/m/maebashi/proposals/{proposals[0].pk}/")  # warm the session
    # 12: the signed state reads the person's keys, then their signature by any channel; the
    # timeline reads the text's revisions beside its events.
    with django_assert_num_queries(12):
        signed_in.get(f"/m/maebashi/proposals/{proposals[0].pk}/")


def test_closed_proposal_shows_no_sign_button(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_closes_at=timezone.now() - timedelta(seconds=1),
        collection_opens_at=timezone.now() - timedelta(days=2),
    )
    body = logged_in(verified(town)).get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert "/sign/" not in body
