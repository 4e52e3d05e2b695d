"""The proposals app's staff pages (types, register size, certification, council, paper
signatures) and the resident extras on a proposal's page, through the test client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.models import AuditEntry, Municipality, Role, User
from proposals import services
from proposals.models import (
    CommitteeMember,
    CouncilAnswer,
    CouncilDocument,
    Follow,
    Objection,
    Proposal,
    ProposalType,
    Signature,
    Status,
)
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    logged_in,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/proposals/"
STAFF = f"{BASE}staff/"


def audit_count(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def queries_for(client: Client, url: str) -> int:
    client.get(url)  # warm up: the first request also loads what the process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries)


def _sign(town: Municipality, proposal: Proposal, n: int) -> list[User]:
    signers = [verified(town) for _ in range(n)]
    for signer in signers:
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    return signers


def _submitted(town: Municipality, title: str = "子育て支援の充実") -> Proposal:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, name=f"type {title}", threshold_fixed=1),
        author=author,
        collecting=True,
    )
    Proposal.objects.filter(pk=proposal.pk).update(title=title)
    _sign(town, proposal, 1)
    services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED
    return proposal


def _certifying(town: Municipality, name: str = "直接請求") -> tuple[Proposal, User]:
    author = verified(town)
    kind = ProposalTypeFactory(
        municipality=town,
        name=name,
        threshold_fixed=2,
        certification_required=True,
        accepts_paper=True,
    )
    proposal = ProposalFactory(type=kind, author=author, collecting=True)
    _sign(town, proposal, 3)
    services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.CERTIFICATION
    return proposal, author


# Who may open which page ------------------------------------------------------------------------

PAGES = [
    ("proposal-types/", Role.ADMINISTRATOR),
    ("proposal-types/new/", Role.ADMINISTRATOR),
    ("register-size/", Role.ELECTION_OFFICE),
    ("certification/", Role.ELECTION_OFFICE),
    ("council/", Role.COUNCIL),
    ("council/overdue.csv", Role.COUNCIL),
    ("paper-signatures/", Role.COUNTER_CLERK),
]


@pytest.mark.parametrize(("page", "role"), PAGES, ids=[p for p, _ in PAGES])
def test_staff_pages_are_refused_to_everyone_else(town: Municipality, page: str, role: str) -> None:
    url = STAFF + page
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert logged_in(verified(town)).get(url).status_code == 403
    other_town = MunicipalityFactory(slug="takasaki")
    assert logged_in(staff(other_town, role)).get(url).status_code == 403
    other_roles = [r for r in Role.values if r != role]
    assert logged_in(staff(town, other_roles[0])).get(url).status_code == 403
    without_mfa = logged_in(staff(town, role, mfa=False)).get(url)
    assert without_mfa.status_code == 302 and "2fa" in without_mfa["Location"]
    assert logged_in(staff(town, role)).get(url).status_code == 200


def test_staff_posts_are_refused_to_residents_and_other_towns(town: Municipality) -> None:
    proposal = _submitted(town)
    other = staff(MunicipalityFactory(slug="takasaki"), Role.COUNCIL)
    resident = verified(town)
    for user in (resident, other):
        response = logged_in(user).post(
            f"{STAFF}council/{proposal.pk}/answer/",
            {"decision": "adopted", "reasons": "理由を二十文字以上書きます。理由を二十文字以上。"},
        )
        assert response.status_code == 403
    assert not CouncilAnswer.objects.exists()
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED


def test_dashboard_links_the_pages_of_each_role(town: Municipality) -> None:
    links = {
        Role.ADMINISTRATOR: f"{STAFF}proposal-types/",
        Role.ELECTION_OFFICE: f"{STAFF}certification/",
        Role.COUNCIL: f"{STAFF}council/",
        Role.COUNTER_CLERK: f"{STAFF}paper-signatures/",
    }
    for role, link in links.items():
        page = logged_in(staff(town, role)).get("/m/maebashi/staff/").content.decode()
        assert f'href="{link}"' in page, role
        for other_role, other_link in links.items():
            if other_role != role:
                assert f'href="{other_link}"' not in page, (role, other_role)


# Proposal types -----------------------------------------------------------------------------------

TYPE_FORM = {
    "name": "直接請求",
    "description": "地方自治法第74条",
    "threshold_kind": "register_fraction",
    "threshold_fixed": "",
    "threshold_numerator": "1",
    "threshold_denominator": "50",
    "collection_days": "30",
    "collection_until": "",
    "min_age": "18",
    "accepts_paper": "on",
    "committee_size": "1",
    "certification_required": "on",
    "answer_deadline_days": "60",
    "inspection_days": "7",
    "is_active": "on",
}


def test_administrator_creates_and_edits_a_type(town: Municipality) -> None:
    admin = logged_in(staff(town, Role.ADMINISTRATOR))
    response = admin.post(f"{STAFF}proposal-types/new/", TYPE_FORM)
    assert response.status_code == 302 and response["Location"].endswith("/proposal-types/")
    kind = ProposalType.objects.get(municipality=town, name="直接請求")
    assert kind.threshold_kind == "register_fraction" and kind.threshold_fixed is None
    assert kind.accepts_paper and not kind.accepts_online and not kind.accepts_counter
    assert kind.certification_required and kind.committee_size == 1
    assert kind.answer_deadline_days == 60 and not kind.signatures_withdrawable
    assert audit_count("proposal_type.create") == 1

    page = admin.get(f"{STAFF}proposal-types/").content.decode()
    assert "直接請求" in page and f"{STAFF}proposal-types/{kind.pk}/" in page
    edit = admin.get(f"{STAFF}proposal-types/{kind.pk}/").content.decode()
    assert 'value="直接請求"' in edit

    changed = {
        **TYPE_FORM,
        "threshold_kind": "fixed",
        "threshold_fixed": "10",
        "collection_days": "",
        "collection_until": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "accepts_online": "on",
    }
    assert admin.post(f"{STAFF}proposal-types/{kind.pk}/", changed).status_code == 302
    kind.refresh_from_db()
    assert kind.threshold() == 10 and kind.collection_days is None
    assert kind.collection_until == timezone.localdate() + timedelta(days=90)
    entry = AuditEntry.objects.get(action="proposal_type.update")
    assert set(entry.data["changed"]) >= {"threshold_kind", "threshold_fixed", "accepts_online"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"threshold_kind": "fixed", "threshold_fixed": ""}, "threshold_fixed"),
        ({"collection_until": "2099-01-01"}, "collection_days"),  # both days and a date
        ({"collection_days": ""}, "collection_days"),  # neither
        ({"collection_days": "", "collection_until": "2001-01-01"}, "collection_until"),
        ({"accepts_paper": ""}, None),  # no channel at all
        ({"threshold_numerator": "3", "threshold_denominator": "2"}, "threshold_denominator"),
        ({"name": "市民政策提案"}, "name"),  # taken
        ({"min_age": "-1"}, "min_age"),
    ],
)
def test_bad_type_values_are_refused_and_change_nothing(
    town: Municipality, overrides: dict[str, str], field: str | None
) -> None:
    existing = ProposalTypeFactory(municipality=town)
    before = ProposalType.objects.values().get(pk=existing.pk)
    admin = logged_in(staff(town, Role.ADMINISTRATOR))
    for url in (f"{STAFF}proposal-types/new/", f"{STAFF}proposal-types/{existing.pk}/"):
        values = {**TYPE_FORM, **overrides}
        if url.endswith(f"/{existing.pk}/") and field == "name":
            values["name"] = "市民政策提案"  # its own name is fine when editing: skip that case
            continue
        response = admin.post(url, values)
        assert response.status_code == 422, url
        form = response.context["form"]
        assert form.errors.get(field or "__all__"), (url, form.errors)
        if field:
            assert f'id="id_{field}_error"' in response.content.decode()
    assert ProposalType.objects.count() == 1
    assert ProposalType.objects.values().get(pk=existing.pk) == before
    assert not AuditEntry.objects.filter(action__startswith="proposal_type.").exists()


def test_types_of_another_town_cannot_be_edited(town: Municipality) -> None:
    foreign = ProposalTypeFactory(municipality=MunicipalityFactory(slug="takasaki"))
    admin = logged_in(staff(town, Role.ADMINISTRATOR))
    assert admin.get(f"{STAFF}proposal-types/{foreign.pk}/").status_code == 404
    assert admin.post(f"{STAFF}proposal-types/{foreign.pk}/", TYPE_FORM).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "市民政策提案"


def test_election_office_enters_the_register_size(town: Municipality) -> None:
    fixed = ProposalTypeFactory(municipality=town)
    fraction = ProposalTypeFactory(
        municipality=town, name="直接請求", threshold_kind="register_fraction", threshold_fixed=None
    )
    office = logged_in(staff(town, Role.ELECTION_OFFICE))
    listing = office.get(f"{STAFF}register-size/").content.decode()
    assert "直接請求" in listing and "市民政策提案" not in listing
    assert office.get(f"{STAFF}register-size/{fixed.pk}/").status_code == 404
    admin = logged_in(staff(town, Role.ADMINISTRATOR))
    data = {"register_size": "120000", "register_date": "令和7年9月1日"}
    assert admin.post(f"{STAFF}register-size/{fraction.pk}/", data).status_code == 403

    for bad in (
        {"register_size": "0", "register_date": "2025-09-01"},
        {"register_size": "120000", "register_date": "昨日"},
        {"register_size": "120000", "register_date": "2999-01-01"},
    ):
        assert office.post(f"{STAFF}register-size/{fraction.pk}/", bad).status_code == 422
    fraction.refresh_from_db()
    assert fraction.register_size is None and fraction.register_date is None

    response = office.post(f"{STAFF}register-size/{fraction.pk}/", data)
    assert response.status_code == 302
    fraction.refresh_from_db()
    assert fraction.register_size == 120000 and fraction.register_date == date(2025, 9, 1)
    assert fraction.threshold() == 2400
    assert audit_count("proposal_type.register_set") == 1


# Certification -----------------------------------------------------------------------------------


def test_certification_through_the_pages(town: Municipality) -> None:
    proposal, _author = _certifying(town)
    office_user = staff(town, Role.ELECTION_OFFICE)
    office = logged_in(office_user)
    queue = office.get(f"{STAFF}certification/").content.decode()
    assert f"{STAFF}certification/{proposal.pk}/" in queue

    before = audit_count("proposal.signatory_list_download")
    page = office.get(f"{STAFF}certification/{proposal.pk}/")
    assert audit_count("proposal.signatory_list_download") == before + 1  # once per page shown
    body = page.content.decode()
    signatures = list(Signature.objects.filter(proposal=proposal).order_by("id"))
    assert all(f"住民 {s.user_id}" in body for s in signatures)  # names, from identity
    assert f"{BASE}{proposal.pk}/signatories.csv" in body

    invalidate = f"{STAFF}certification/{proposal.pk}/signatures/{signatures[0].pk}/invalidate/"
    office.post(invalidate, {"reason": ""})  # no reason: nothing changes
    assert Signature.objects.filter(proposal=proposal).exclude(invalid_reason="").count() == 0
    assert office.post(invalidate, {"reason": "duplicate"}).status_code == 302
    signatures[0].refresh_from_db()
    assert signatures[0].invalid_reason == "duplicate"

    office.post(f"{STAFF}certification/{proposal.pk}/publish/")
    proposal.refresh_from_db()
    assert proposal.certified_count == 2 and proposal.inspection_ends_at is not None

    # A resident objects on the public page during the inspection.
    resident = logged_in(verified(town))
    public = resident.get(f"{BASE}{proposal.pk}/").content.decode()
    assert f'action="{BASE}{proposal.pk}/objections/"' in public
    empty = resident.post(f"{BASE}{proposal.pk}/objections/", {"text": "  "})
    assert empty.status_code == 422 and not Objection.objects.exists()
    resident.post(f"{BASE}{proposal.pk}/objections/", {"text": "同じ人が二度署名しています"})
    objection = Objection.objects.get()

    # Finalizing is refused while the inspection runs and while an objection is open.
    office.post(f"{STAFF}certification/{proposal.pk}/finalize/")
    Proposal.objects.filter(pk=proposal.pk).update(
        inspection_ends_at=timezone.now() - timedelta(minutes=1)
    )
    office.post(f"{STAFF}certification/{proposal.pk}/finalize/")
    proposal.refresh_from_db()
    assert proposal.status == Status.CERTIFICATION

    answer_url = f"{STAFF}certification/{proposal.pk}/objections/{objection.pk}/answer/"
    office.post(answer_url, {"answer": ""})
    objection.refresh_from_db()
    assert objection.answered_at is None
    office.post(answer_url, {"answer": "確認し、1件を無効としました。"})
    objection.refresh_from_db()
    assert objection.answered_by == office_user

    response = office.post(f"{STAFF}certification/{proposal.pk}/finalize/")
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED and proposal.certified_count == 2
    public = resident.get(f"{BASE}{proposal.pk}/").content.decode()
    assert "同じ人が二度署名しています" not in public  # objections are not public text


def test_certification_refuses_foreign_ids(town: Municipality) -> None:
    proposal, _author = _certifying(town)
    other_town = MunicipalityFactory(slug="takasaki")
    foreign, _ = _certifying(other_town)
    foreign_signature = Signature.objects.filter(proposal=foreign).first()
    office = logged_in(staff(town, Role.ELECTION_OFFICE))
    assert office.get(f"{STAFF}certification/{foreign.pk}/").status_code == 404
    url = f"{STAFF}certification/{proposal.pk}/signatures/{foreign_signature.pk}/invalidate/"
    assert office.post(url, {"reason": "duplicate"}).status_code == 404
    foreign_signature.refresh_from_db()
    assert foreign_signature.invalid_reason == ""


# The council -------------------------------------------------------------------------------------


def test_council_queue_orders_by_deadline_and_flags_overdue(town: Municipality) -> None:
    late = _submitted(town, "遅れている提案")
    soon = _submitted(town, "まもなく期限")
    Proposal.objects.filter(pk=late.pk).update(
        answer_due_on=timezone.localdate() - timedelta(days=3)
    )
    Proposal.objects.filter(pk=soon.pk).update(
        answer_due_on=timezone.localdate() + timedelta(days=2)
    )
    council = logged_in(staff(town, Role.COUNCIL))
    response = council.get(f"{STAFF}council/")
    assert [p.pk for p in response.context["proposals"]] == [late.pk, soon.pk]
    assert response.context["overdue_ids"] == {late.pk}
    body = response.content.decode()
    assert body.count('class="row-overdue"') == 1 and 'data-overdue="1"' in body

    report = council.get(f"{STAFF}council/overdue.csv")
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("proposal_id,title,status,submitted_at,answer_due_on,days_overdue")
    assert len(lines) == 2 and "遅れている提案" in lines[1] and lines[1].endswith(",3")


def test_council_reviews_and_answers_through_the_pages(
    town: Municipality, settings: object, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    proposal = _submitted(town)
    council = logged_in(staff(town, Role.COUNCIL))
    base = f"{STAFF}council/{proposal.pk}/"
    assert council.get(base).status_code == 200
    council.post(f"{base}review/")
    proposal.refresh_from_db()
    assert proposal.status == Status.UNDER_REVIEW

    assert council.post(f"{base}clarify/", {"question": ""}).status_code == 422
    council.post(f"{base}clarify/", {"question": "予算規模は?"})
    assert proposal.timeline.filter(note__contains="予算規模は?").exists()

    pdf = SimpleUploadedFile("shiryo.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    assert council.post(f"{base}documents/", {"title": "審議資料", "file": pdf}).status_code == 302
    assert CouncilDocument.objects.get().title == "審議資料"

    short = council.post(f"{base}answer/", {"decision": "adopted", "reasons": "短すぎる"})
    assert short.status_code == 422 and "短すぎる" in short.content.decode()  # kept in the form
    assert not CouncilAnswer.objects.exists()
    reasons = "## 理由\n\n保育所の増設は**来年度予算**で一部実施します。"
    response = council.post(f"{base}answer/", {"decision": "partially_adopted", "reasons": reasons})
    assert response.status_code == 302 and response["Location"].endswith(f"/{proposal.pk}/")
    proposal.refresh_from_db()
    assert proposal.status == Status.ANSWERED

    page = Client().get(f"{BASE}{proposal.pk}/").content.decode()
    assert "<strong>来年度予算</strong>" in page and "<h2>理由</h2>" in page
    assert "審議資料" in page


# Paper and counter signatures --------------------------------------------------------------------


def test_counter_clerk_enters_paper_signatures(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town, accepts_paper=True)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    signer = verified(town, birth=date(1960, 5, 5))
    today = timezone.localdate()
    young_birth = today - timedelta(days=17 * 365 + 30)  # seventeen, not yet eighteen
    young = verified(town, birth=young_birth)
    clerk = logged_in(staff(town, Role.COUNTER_CLERK))
    url = f"{STAFF}paper-signatures/"
    assert f'value="{proposal.pk}"' in clerk.get(url).content.decode()

    entry = {
        "proposal": proposal.pk,
        "channel": "paper",
        "sheet": "S-001",
        "name": f"住民 {signer.pk}",
        "birth_date": "昭和35年5月5日",
        "address": f"大手町{signer.pk}-1",
    }
    response = clerk.post(url, entry)
    assert response.status_code == 302
    assert "sheet=S-001" in response["Location"] and "channel=paper" in response["Location"]
    signature = Signature.objects.get(proposal=proposal)
    assert signature.channel == "paper" and signature.sheet == "S-001"
    again = clerk.get(response["Location"]).content.decode()
    assert 'value="S-001"' in again  # the sheet stays filled for the next entry

    # The same person again, then a 17-year-old: refused with the reason, the form kept filled.
    twice = clerk.post(url, entry)
    assert twice.status_code == 422 and "data-refusal" in twice.content.decode()
    under_age = {
        **entry,
        "name": f"住民 {young.pk}",
        "birth_date": young_birth.isoformat(),
        "address": f"大手町{young.pk}-1",
    }
    refused = clerk.post(url, under_age)
    body = refused.content.decode()
    assert refused.status_code == 422 and f'value="住民 {young.pk}"' in body
    assert "aged 18 or older" in body or "18歳以上の方が対象です" in body
    for bad in ({"birth_date": "いつか"}, {"sheet": ""}):
        assert clerk.post(url, {**entry, **bad}).status_code == 422
    assert Signature.objects.filter(proposal=proposal).count() == 1


def test_paper_page_offers_only_proposals_of_this_town_that_take_paper(
    town: Municipality,
) -> None:
    online_only = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, accepts_counter=False, accepts_paper=False),
        author=verified(town),
        collecting=True,
    )
    other_town = MunicipalityFactory(slug="takasaki")
    foreign = ProposalFactory(
        type=ProposalTypeFactory(municipality=other_town),
        author=verified(other_town),
        collecting=True,
    )
    clerk = logged_in(staff(town, Role.COUNTER_CLERK))
    page = clerk.get(f"{STAFF}paper-signatures/").content.decode()
    assert f'value="{online_only.pk}"' not in page and f'value="{foreign.pk}"' not in page
    person = {"name": "n", "birth_date": "1980-01-01", "address": "a", "channel": "counter"}
    response = clerk.post(f"{STAFF}paper-signatures/", {"proposal": foreign.pk, **person})
    assert response.status_code == 422
    assert not Signature.objects.filter(proposal=foreign).exists()


# Resident extras on the proposal page ------------------------------------------------------------


def test_follow_and_unfollow(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    resident = verified(town)
    client = logged_in(resident)
    assert (
        f'action="{BASE}{proposal.pk}/follow/"'
        in client.get(f"{BASE}{proposal.pk}/").content.decode()
    )
    client.post(f"{BASE}{proposal.pk}/follow/")
    client.post(f"{BASE}{proposal.pk}/follow/")  # twice: still one
    assert Follow.objects.filter(proposal=proposal, user=resident).count() == 1
    assert (
        f'action="{BASE}{proposal.pk}/unfollow/"'
        in client.get(f"{BASE}{proposal.pk}/").content.decode()
    )
    client.post(f"{BASE}{proposal.pk}/unfollow/")
    assert not Follow.objects.exists()
    assert audit_count("proposal.follow") == 1 and audit_count("proposal.unfollow") == 1
    assert Client().post(f"{BASE}{proposal.pk}/follow/").status_code == 302  # to sign in
    assert not Follow.objects.exists()


def test_committee_invite_and_confirm(town: Municipality) -> None:
    author = verified(town)
    kind = ProposalTypeFactory(municipality=town, committee_size=1)
    draft = services.proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=services.ProposalDraft(title="条例の制定", summary="概要", body="本文"),
    )
    member = verified(town)
    stranger = logged_in(verified(town))
    url = f"{BASE}{draft.pk}/committee/invite/"
    assert stranger.post(url, {"email": member.email}).status_code == 404  # a draft is private
    client = logged_in(author)
    assert client.post(url, {"email": "nobody@example.jp"}).status_code == 422
    assert client.post(url, {"email": member.email}).status_code == 302
    assert CommitteeMember.objects.get().user == member

    page = logged_in(member).get(f"{BASE}{draft.pk}/").content.decode()
    assert f'action="{BASE}{draft.pk}/committee/accept/"' in page
    logged_in(member).post(f"{BASE}{draft.pk}/committee/accept/")
    assert CommitteeMember.objects.get().confirmed_at is not None
    client.post(f"{BASE}{draft.pk}/open/")
    draft.refresh_from_db()
    assert draft.status == Status.COLLECTING


def test_author_closes_early_and_withdraws(town: Municipality) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=1),
        author=author,
        collecting=True,
    )
    client = logged_in(author)
    assert f"{BASE}{proposal.pk}/close/" not in client.get(f"{BASE}{proposal.pk}/").content.decode()
    _sign(town, proposal, 1)
    assert f"{BASE}{proposal.pk}/close/" in client.get(f"{BASE}{proposal.pk}/").content.decode()
    stranger = logged_in(verified(town))
    stranger.post(f"{BASE}{proposal.pk}/close/")
    stranger.post(f"{BASE}{proposal.pk}/withdraw/")
    proposal.refresh_from_db()
    assert proposal.status == Status.THRESHOLD_REACHED
    client.post(f"{BASE}{proposal.pk}/close/")
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED

    other = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, name="別の型"), author=author, collecting=True
    )
    client.post(f"{BASE}{other.pk}/withdraw/")
    other.refresh_from_db()
    assert other.status == Status.WITHDRAWN


# Query counts of the lists and queues ------------------------------------------------------------


def _two_sizes(grow: Callable[[], None], client: Client, url: str) -> tuple[int, int]:
    grow()
    small = queries_for(client, url)
    grow()
    grow()
    return small, queries_for(client, url)


def test_list_pages_run_a_fixed_number_of_queries(town: Municipality) -> None:
    admin = logged_in(staff(town, Role.ADMINISTRATOR))
    counter = iter(range(100))
    small, large = _two_sizes(
        lambda: ProposalTypeFactory(municipality=town, name=f"型{next(counter)}"),
        admin,
        f"{STAFF}proposal-types/",
    )
    assert small == large <= 8

    council = logged_in(staff(town, Role.COUNCIL))
    titles = iter(range(100))
    small, large = _two_sizes(
        lambda: _submitted(town, f"提案{next(titles)}") and None, council, f"{STAFF}council/"
    )
    assert small == large <= 8


def test_certification_pages_run_a_fixed_number_of_queries(town: Municipality) -> None:
    office = logged_in(staff(town, Role.ELECTION_OFFICE))
    proposal, _author = _certifying(town)
    queue_small = queries_for(office, f"{STAFF}certification/")
    detail_small = queries_for(office, f"{STAFF}certification/{proposal.pk}/")
    _certifying(town, "もう一つ")  # a second proposal in the queue
    clerk = staff(town, Role.COUNTER_CLERK)
    for n in range(3):  # more signatories, entered at the counter for verified residents
        person = verified(town)
        Signature.objects.create(
            proposal=proposal,
            person_key=f"extra-{n}",
            channel="counter",
            age_bracket="40s",
            entered_by=clerk,
            verification_id=person.verifications.get().pk,
        )
    assert queries_for(office, f"{STAFF}certification/") == queue_small <= 8
    assert queries_for(office, f"{STAFF}certification/{proposal.pk}/") == detail_small <= 16


def test_paper_page_runs_a_fixed_number_of_queries(town: Municipality) -> None:
    clerk = logged_in(staff(town, Role.COUNTER_CLERK))
    author = verified(town)
    names = iter(range(100))
    small, large = _two_sizes(
        lambda: (
            ProposalFactory(
                type=ProposalTypeFactory(municipality=town, name=f"型{next(names)}"),
                author=author,
                collecting=True,
            )
            and None
        ),
        clerk,
        f"{STAFF}paper-signatures/",
    )
    assert small == large <= 8


def test_proposal_page_with_extras_runs_a_fixed_number_of_queries(town: Municipality) -> None:
    proposal = _submitted(town)
    client = logged_in(UserFactory())
    first = queries_for(client, f"{BASE}{proposal.pk}/")
    for _ in range(3):
        Follow.objects.create(proposal=proposal, user=UserFactory())
    assert queries_for(client, f"{BASE}{proposal.pk}/") == first
