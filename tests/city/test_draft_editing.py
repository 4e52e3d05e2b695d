"""Issue 15, defect 4: a draft can be edited (page and API) until collection opens, through one
service, with its history on the timeline."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from identity.errors import Conflict, InvalidFields, PermissionDenied
from identity.models import AuditEntry, Municipality
from proposals import services
from proposals.models import Proposal, ProposalRevision, Status, normalize_search
from tests.factories import ProposalFactory, ProposalTypeFactory, logged_in, verified

pytestmark = pytest.mark.django_db

FORM = {
    "title": "子育て支援センターの日曜開館",
    "summary": "日曜日も開館してください",
    "body": "# 提案\n日曜日の開館を求めます。",
    "category": "子育て",
    "location": "中央公民館",
    "based_on": "0",
}


def _draft(town: Municipality, **type_fields: Any) -> Proposal:
    kind = ProposalTypeFactory(municipality=town, **type_fields)
    return ProposalFactory(type=kind, author=verified(town), category="福祉")


def _api(client: Client, proposal: Proposal, payload: dict[str, Any]) -> Any:
    return client.patch(
        f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}",
        data=json.dumps(payload),
        content_type="application/json",
    )


def _edits(proposal: Proposal) -> int:
    return AuditEntry.objects.filter(action="proposal.edit", target_id=str(proposal.pk)).count()


def test_the_author_edits_the_draft_through_its_page(town: Municipality) -> None:
    draft = _draft(town)
    client = logged_in(draft.author)
    page = client.get(f"/m/maebashi/proposals/{draft.pk}/").content.decode()
    assert f'href="/m/maebashi/proposals/{draft.pk}/edit/"' in page
    form = client.get(f"/m/maebashi/proposals/{draft.pk}/edit/")
    assert form.status_code == 200
    assert 'value="子育て支援の充実"' in form.content.decode()  # the current title, to change

    saved = client.post(f"/m/maebashi/proposals/{draft.pk}/edit/", FORM)
    assert saved.status_code == 302 and saved["Location"] == f"/m/maebashi/proposals/{draft.pk}/"
    draft.refresh_from_db()
    assert (draft.title, draft.location, draft.category) == (
        FORM["title"],
        "中央公民館",
        "子育て",
    )
    assert normalize_search("日曜日の開館") in draft.search_text
    revision = ProposalRevision.objects.get(proposal=draft)
    assert (revision.number, revision.title, revision.category) == (1, "子育て支援の充実", "福祉")
    assert revision.edited_by == draft.author
    assert revision.changed == ["title", "summary", "body", "category", "location"]
    assert _edits(draft) == 1
    page = client.get(f"/m/maebashi/proposals/{draft.pk}/").content.decode()
    timeline = page[page.index('id="timeline-heading"') :]
    assert "本文を修正 — タイトル, 概要, 提案, 分野, 場所" in timeline


def test_bad_input_changes_nothing(town: Municipality) -> None:
    draft = _draft(town)
    client = logged_in(draft.author)
    empty = client.post(f"/m/maebashi/proposals/{draft.pk}/edit/", {**FORM, "title": "  "})
    assert empty.status_code == 422
    too_long = client.post(f"/m/maebashi/proposals/{draft.pk}/edit/", {**FORM, "title": "あ" * 121})
    assert too_long.status_code == 422
    with pytest.raises(InvalidFields) as error:
        services.proposal_edit(
            actor=draft.author,
            municipality=town,
            proposal_id=draft.pk,
            changes=services.ProposalChanges(title=" ", body=""),
        )
    assert set(error.value.errors) == {"title", "body"}
    api = _api(client, draft, {"summary": ""})
    assert api.status_code == 422 and api.json()["code"] == "invalid_text"
    assert "概要" in api.json()["message"]
    draft.refresh_from_db()
    assert draft.title == "子育て支援の充実" and draft.summary == "保育所を増やす"
    assert not ProposalRevision.objects.exists() and _edits(draft) == 0


def test_no_edit_once_collection_opens(town: Municipality) -> None:
    draft = _draft(town)
    services.collection_open(actor=draft.author, municipality=town, proposal_id=draft.pk)
    client = logged_in(draft.author)
    page = client.get(f"/m/maebashi/proposals/{draft.pk}/").content.decode()
    assert "/edit/" not in page
    refused = client.post(f"/m/maebashi/proposals/{draft.pk}/edit/", FORM)
    assert refused.status_code == 302
    api = _api(client, draft, {"title": "新しい題"})
    assert api.status_code == 409 and api.json()["code"] == "not_editable"
    with pytest.raises(Conflict):
        services.proposal_edit(
            actor=draft.author,
            municipality=town,
            proposal_id=draft.pk,
            changes=services.ProposalChanges(title="新しい題"),
        )
    draft.refresh_from_db()
    assert draft.title == "子育て支援の充実" and _edits(draft) == 0


def test_only_the_author_and_confirmed_promoters(town: Municipality) -> None:
    draft = _draft(town, committee_size=1)
    stranger, promoter = verified(town), verified(town)
    # A draft is invisible to others: 404 on the page and in the API.
    assert logged_in(stranger).get(f"/m/maebashi/proposals/{draft.pk}/edit/").status_code == 404
    assert _api(logged_in(stranger), draft, {"title": "乗っ取り"}).status_code == 404
    services.committee_invite(
        actor=draft.author, municipality=town, proposal_id=draft.pk, email=promoter.email
    )
    # Invited but not confirmed: not an editor yet (and the proposal is now public).
    invited = _api(logged_in(promoter), draft, {"title": "乗っ取り"})
    assert invited.status_code == 403 and invited.json()["code"] == "not_author"
    assert _api(logged_in(stranger), draft, {"title": "乗っ取り"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.proposal_edit(
            actor=stranger,
            municipality=town,
            proposal_id=draft.pk,
            changes=services.ProposalChanges(title="乗っ取り"),
        )
    services.committee_accept(actor=promoter, municipality=town, proposal_id=draft.pk)
    edited = _api(logged_in(promoter), draft, {"summary": "発起人が修正"})
    assert edited.status_code == 200, edited.content
    body = edited.json()
    assert body["summary"] == "発起人が修正" and body["title"] == "子育て支援の充実"
    assert [(r["number"], r["changed"]) for r in body["revisions"]] == [(1, ["summary"])]
    draft.refresh_from_db()
    assert draft.status == Status.COMMITTEE


def test_a_concurrent_edit_is_reported_not_overwritten(town: Municipality) -> None:
    draft = _draft(town)
    client = logged_in(draft.author)
    assert _api(client, draft, {"title": "一度目", "based_on": 0}).status_code == 200
    stale = _api(client, draft, {"title": "古い画面から", "based_on": 0})
    assert stale.status_code == 409 and stale.json()["code"] == "edited_meanwhile"
    stale_form = client.post(f"/m/maebashi/proposals/{draft.pk}/edit/", FORM)  # based_on 0
    assert stale_form.status_code == 422 and "別の人" in stale_form.content.decode()
    draft.refresh_from_db()
    assert draft.title == "一度目" and ProposalRevision.objects.filter(proposal=draft).count() == 1


def test_saving_the_same_text_records_nothing(town: Municipality) -> None:
    draft = _draft(town)
    same = _api(logged_in(draft.author), draft, {"title": " 子育て支援の充実 "})
    assert same.status_code == 200 and same.json()["revisions"] == []
    assert _edits(draft) == 0


def test_the_api_documents_the_edit(client: Client, town: Municipality) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/municipalities/{slug}/proposals/{proposal_id}"]["patch"]
    assert {"200", "403", "404", "409", "422"} <= set(operation["responses"])
    assert "collection opens" in operation["summary"]
