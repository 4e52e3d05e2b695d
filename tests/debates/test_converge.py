"""Converge: statements (moderator-written, merged from contributions, or proposed and moderated),
votes, serving order, and the debounced opinion computation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from debates import selectors
from debates.models import (
    Contribution,
    Debate,
    OpinionSnapshot,
    Participant,
    Statement,
    StatementSource,
    StatementStatus,
    Vote,
)
from debates.services import (
    content_hide,
    contribution_add,
    statement_create_from_contributions,
    statement_edit,
    statement_moderate,
    statement_submit,
    vote_cast,
)
from debates.services.opinions import opinions_compute, opinions_recompute_claimed
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.models import AuditEntry, Municipality, Role, User
from tests.debates.conftest import statement, two_camps
from tests.factories import (
    DebateFactory,
    UserFactory,
    staff,
    verified,
)


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


@pytest.fixture
def resident(town: Municipality) -> User:
    return verified(town)


@pytest.fixture
def converging(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))


@pytest.fixture
def diverging(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge", "conclude")
    )


# Statements --------------------------------------------------------------------------------------


def test_moderator_merges_contributions_into_a_published_statement(
    diverging: Debate, moderator: User, resident: User
) -> None:
    first = contribution_add(actor=resident, debate_id=diverging.pk, body="駅前に屋根がほしい")
    second = contribution_add(actor=resident, debate_id=diverging.pk, body="雨の日も集まれる広場を")
    made = statement_create_from_contributions(
        actor=moderator,
        debate_id=diverging.pk,
        text="  駅前広場に   屋根をつけるべきだ ",
        contribution_ids=[second.pk, first.pk, first.pk],
    )
    assert made.status == StatementStatus.PUBLISHED and made.text == "駅前広場に 屋根をつけるべきだ"
    assert made.origin == "moderator" and made.moderated_by == moderator
    assert set(made.sources.values_list("pk", flat=True)) == {first.pk, second.pk}
    entry = AuditEntry.objects.get(action="debate.statement_create")
    assert entry.data["sources"] == [first.pk, second.pk]


def test_statement_creation_refusals_change_nothing(
    diverging: Debate, town: Municipality, moderator: User, resident: User
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        statement_create_from_contributions(actor=resident, debate_id=diverging.pk, text="何か")
    assert refused.value.code == "not_moderator"
    with pytest.raises(InvalidInput) as empty:
        statement_create_from_contributions(actor=moderator, debate_id=diverging.pk, text="  ")
    assert empty.value.code == "empty"
    with pytest.raises(InvalidInput) as long:
        statement_create_from_contributions(
            actor=moderator, debate_id=diverging.pk, text="長" * 301
        )
    assert long.value.code == "too_long"
    other = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    elsewhere = contribution_add(actor=resident, debate_id=other.pk, body="別の議論")
    with pytest.raises(NotFound):
        statement_create_from_contributions(
            actor=moderator, debate_id=diverging.pk, text="文", contribution_ids=[elsewhere.pk]
        )
    hidden = contribution_add(actor=resident, debate_id=diverging.pk, body="不適切")
    content_hide(actor=moderator, target=hidden, reason="個人攻撃")
    with pytest.raises(Conflict) as conflict:
        statement_create_from_contributions(
            actor=moderator, debate_id=diverging.pk, text="文", contribution_ids=[hidden.pk]
        )
    assert conflict.value.code == "hidden"
    statement(diverging, moderator, "同じ文")
    with pytest.raises(Conflict) as duplicate:
        statement(diverging, moderator, "同じ文")
    assert duplicate.value.code == "duplicate_statement"
    assert Statement.objects.count() == 1 and StatementSource.objects.count() == 0


def test_edit_adds_sources_and_is_refused_once_voted_on(
    converging: Debate, moderator: User, resident: User
) -> None:
    made = statement(converging, moderator)
    source = Contribution.objects.create(debate=converging, author=resident, body="屋根")
    edited = statement_edit(
        actor=moderator, statement_id=made.pk, text="駅前に屋根を", add_contribution_ids=[source.pk]
    )
    assert edited.text == "駅前に屋根を" and list(edited.sources.all()) == [source]
    assert AuditEntry.objects.get(action="debate.statement_edit").data["before"] == made.text
    vote_cast(actor=resident, statement_id=made.pk, value=1)
    with pytest.raises(Conflict) as refused:
        statement_edit(actor=moderator, statement_id=made.pk, text="別の言葉")
    assert refused.value.code == "has_votes"
    # Adding a source without changing the words stays possible.
    other = Contribution.objects.create(debate=converging, author=resident, body="日よけ")
    statement_edit(
        actor=moderator, statement_id=made.pk, text=edited.text, add_contribution_ids=[other.pk]
    )
    assert made.sources.count() == 2


def test_participant_statement_waits_for_a_moderator(
    converging: Debate, moderator: User, resident: User
) -> None:
    proposed = statement_submit(actor=resident, debate_id=converging.pk, text="駐輪場を増やす")
    assert proposed.status == StatementStatus.PENDING and proposed.origin == "participant"
    stranger = UserFactory()
    assert list(selectors.statements_visible(converging, stranger)) == []
    assert list(selectors.statements_visible(converging, resident)) == [proposed]
    with pytest.raises(NotFound):
        vote_cast(actor=resident, statement_id=proposed.pk, value=1)
    assert selectors.moderation_queue(converging).pending_statements == [proposed]
    with pytest.raises(PermissionDenied):
        statement_moderate(actor=resident, statement_id=proposed.pk, publish=True)
    with pytest.raises(InvalidInput) as no_reason:
        statement_moderate(actor=moderator, statement_id=proposed.pk, publish=False, reason=" ")
    assert no_reason.value.code == "empty_reason"
    published = statement_moderate(actor=moderator, statement_id=proposed.pk, publish=True)
    assert published.status == StatementStatus.PUBLISHED and published.moderated_by == moderator
    assert list(selectors.statements_visible(converging, stranger)) == [proposed]
    with pytest.raises(Conflict) as twice:
        statement_moderate(actor=moderator, statement_id=proposed.pk, publish=False, reason="x")
    assert twice.value.code == "already_moderated"
    assert selectors.moderation_queue(converging).pending_statements == []


def test_rejected_statement_keeps_its_reason(
    converging: Debate, moderator: User, resident: User
) -> None:
    proposed = statement_submit(actor=resident, debate_id=converging.pk, text="市長を辞めさせろ")
    rejected = statement_moderate(
        actor=moderator, statement_id=proposed.pk, publish=False, reason="議論の対象外です"
    )
    assert rejected.status == StatementStatus.REJECTED
    assert rejected.moderation_reason == "議論の対象外です"
    assert AuditEntry.objects.filter(action="debate.statement_reject").count() == 1
    # A constraint backs it: a rejection without reason cannot be stored.
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.filter(pk=proposed.pk).update(moderation_reason="")


def test_statements_are_proposed_only_in_converge(diverging: Debate, resident: User) -> None:
    with pytest.raises(PermissionDenied) as refused:
        statement_submit(actor=resident, debate_id=diverging.pk, text="文")
    assert refused.value.code == "action_not_in_phase"
    with pytest.raises(PermissionDenied) as anonymous:
        statement_submit(actor=UserFactory(), debate_id=diverging.pk, text="文")
    assert anonymous.value.code == "action_not_in_phase"  # the phase is judged first


def test_pending_statements_per_person_are_limited(converging: Debate, resident: User) -> None:
    from debates.services.converge import MAX_PENDING_PER_PERSON

    for i in range(MAX_PENDING_PER_PERSON):
        statement_submit(actor=resident, debate_id=converging.pk, text=f"提案 {i}")
    with pytest.raises(Conflict) as refused:
        statement_submit(actor=resident, debate_id=converging.pk, text="もう一つ")
    assert refused.value.code == "too_many_pending"


# Votes -------------------------------------------------------------------------------------------


def test_vote_is_one_row_changeable_and_counted(
    converging: Debate, moderator: User, resident: User
) -> None:
    made = statement(converging, moderator)
    first = vote_cast(actor=resident, statement_id=made.pk, value=1)
    assert (first.value, first.previous, first.changed) == (1, None, True)
    again = vote_cast(actor=resident, statement_id=made.pk, value=1)
    assert not again.changed
    changed = vote_cast(actor=resident, statement_id=made.pk, value=-1)
    assert (changed.previous, changed.value) == (1, -1)
    vote_cast(actor=resident, statement_id=made.pk, value=0)
    made.refresh_from_db()
    assert (made.agree_count, made.disagree_count, made.pass_count) == (0, 0, 1)
    assert Vote.objects.get().value == 0
    participant = Participant.objects.get()
    assert participant.user == resident and len(participant.token) == 12
    # Counted, but no audit entry names a participant's vote (docs/design.md, "Secrecy").
    assert not AuditEntry.objects.filter(actor=resident).exists()
    converging.refresh_from_db()
    assert converging.opinions_dirty_since is not None


def test_votes_refused_change_nothing(
    diverging: Debate, converging: Debate, moderator: User, resident: User
) -> None:
    early = statement(diverging, moderator)
    with pytest.raises(PermissionDenied) as closed:
        vote_cast(actor=resident, statement_id=early.pk, value=1)
    assert closed.value.code == "action_not_in_phase"
    made = statement(converging, moderator)
    with pytest.raises(InvalidInput) as invalid:
        vote_cast(actor=resident, statement_id=made.pk, value=2)
    assert invalid.value.code == "invalid_vote"
    with pytest.raises(PermissionDenied) as unverified:
        vote_cast(actor=UserFactory(), statement_id=made.pk, value=1)
    assert unverified.value.code == "not_verified"
    with pytest.raises(NotFound):
        vote_cast(actor=resident, statement_id=made.pk + 999, value=1)
    assert Vote.objects.count() == 0 and Participant.objects.count() == 0
    made.refresh_from_db()
    assert made.vote_count == 0


def test_a_vote_outside_the_known_values_cannot_be_stored(
    converging: Debate, moderator: User, resident: User
) -> None:
    made = statement(converging, moderator)
    vote_cast(actor=resident, statement_id=made.pk, value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.update(value=5)
    participant = Participant.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(statement=made, participant=participant, value=-1)


# Serving order -----------------------------------------------------------------------------------


def _votes(statement: Statement, users: list[User], value: int) -> None:
    for user in users:
        vote_cast(actor=user, statement_id=statement.pk, value=value)


def test_next_statements_favour_unseen_then_few_votes_deterministically(
    converging: Debate, town: Municipality, moderator: User, resident: User
) -> None:
    old, fresh, mine = (
        statement(converging, moderator, t) for t in ("古い文", "新しい文", "投票済み")
    )
    others = [verified(town) for _ in range(6)]
    _votes(old, others, 1)
    vote_cast(actor=resident, statement_id=mine.pk, value=1)
    shown = selectors.next_statements(converging, resident, 5)
    assert shown == [fresh, old]  # never one already voted on; fewer votes first
    assert selectors.next_statements(converging, resident, 1) == [fresh]
    assert selectors.next_statements(converging, resident, 0) == []
    # Ties (no votes, no snapshot) are broken per person, the same way every time.
    ties = [statement(converging, moderator, f"同点 {i}") for i in range(8)]
    person = others[0]
    order = selectors.next_statements(converging, person, 20)
    assert order == selectors.next_statements(converging, person, 20)
    assert set(order) == {fresh, mine, *ties}


def test_next_statements_prefer_divisive_and_uniting_after_a_snapshot(
    converging: Debate, moderator: User
) -> None:
    plain, divisive, uniting = (
        statement(converging, moderator, t) for t in ("ふつう", "割れる", "一致")
    )
    OpinionSnapshot.objects.create(
        debate=converging,
        result={
            "statements": {
                str(plain.pk): {"consensus": 0.1, "spread": 0.1, "agree_rate": 0.5, "groups": []},
                str(divisive.pk): {
                    "consensus": 0.1,
                    "spread": 0.9,
                    "agree_rate": 0.5,
                    "groups": [],
                },
                str(uniting.pk): {"consensus": 0.8, "spread": 0.0, "agree_rate": 0.9, "groups": []},
            }
        },
    )
    assert selectors.next_statements(converging, UserFactory(), 3) == [divisive, uniting, plain]


# Opinions ----------------------------------------------------------------------------------------


def test_opinions_find_two_camps_and_the_common_ground(converging: Debate, moderator: User) -> None:
    statements = two_camps(converging, moderator)
    snapshot = opinions_compute(converging.pk)
    assert snapshot is not None
    assert (snapshot.participant_count, snapshot.statement_count, snapshot.vote_count) == (
        20,
        11,
        220,
    )
    assert snapshot.group_count == 2
    result = snapshot.result
    assert sorted(g["size"] for g in result["groups"]) == [10, 10]
    assert result["consensus"][0] == statements[10].pk
    assert set(result["divisive"]) == {s.pk for s in statements[:10]}
    tokens = set(Participant.objects.values_list("token", flat=True))
    assert {p[0] for p in result["points"]} == tokens
    # Per-group counts: everyone agrees with statement 10; statement 0 splits the groups.
    assert result["statements"][str(statements[10].pk)]["groups"] == [[10, 0, 0], [10, 0, 0]]
    assert sorted(result["statements"][str(statements[0].pk)]["groups"]) == [[0, 10, 0], [10, 0, 0]]
    rows = selectors.statements_with_counts(converging)
    assert [r.statement for r in rows] == statements
    assert rows[10].agrees == 20 and [g.agrees for g in rows[10].groups] == [10, 10]
    report = selectors.opinion_report(converging)
    assert report is not None and report.consensus[0] == statements[10]
    assert all(rep[0] in statements for g in report.groups for rep in g.representative)
    # The same votes give the same groups.
    again = opinions_compute(converging.pk)
    assert again is not None and again.result == result


def test_opinions_of_a_debate_without_votes(converging: Debate) -> None:
    snapshot = opinions_compute(converging.pk)
    assert snapshot is not None and snapshot.group_count == 0 and snapshot.result["points"] == []


def test_many_votes_give_one_computation_outside_the_request(
    converging: Debate,
    town: Municipality,
    moderator: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    statements = [statement(converging, moderator, f"主張 {i}") for i in range(3)]
    voters = [verified(town) for _ in range(4)]
    with django_capture_on_commit_callbacks() as callbacks:
        for voter in voters:
            for s in statements:
                vote_cast(actor=voter, statement_id=s.pk, value=1)
    assert not OpinionSnapshot.objects.exists()  # nothing computed inside the votes
    for callback in callbacks:  # now the commits "happen": every vote's callback runs
        callback()
    snapshot = OpinionSnapshot.objects.get()
    assert snapshot.vote_count == 12 and snapshot.participant_count == 4
    converging.refresh_from_db()
    assert converging.opinions_dirty_since is None
    # Nothing dirty: a late task computes nothing.
    assert opinions_recompute_claimed(converging.pk) is None
    # A new vote marks it dirty again, and the next run includes it.
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(actor=voters[0], statement_id=statements[0].pk, value=-1)
    latest = selectors.snapshot_latest(converging)
    assert latest is not None and latest.pk != snapshot.pk and latest.vote_count == 12
    assert OpinionSnapshot.objects.count() == 2


def test_schedule_queues_once_while_one_is_pending(converging: Debate) -> None:
    from config.celery import app
    from debates.services.opinions import opinions_schedule

    was = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        assert opinions_schedule(converging.pk) is True
        assert opinions_schedule(converging.pk) is False
        assert opinions_schedule(converging.pk) is False
    finally:
        app.conf.task_always_eager = was
    # The task clears the pending mark first, so a vote after it schedules again.
    assert opinions_recompute_claimed(converging.pk) is None
    from django.core.cache import cache

    assert cache.get(f"debates:opinions-pending:{converging.pk}") is None


def test_statement_length_message_in_english(converging: Debate, moderator: User) -> None:
    with translation.override("en"):
        with pytest.raises(InvalidInput) as long:
            statement(converging, moderator, "x" * 301)
        assert "at most 300 characters" in str(long.value.message)


def test_one_person_with_two_accounts_takes_part_once(
    converging: Debate, town: Municipality, moderator: User
) -> None:
    from datetime import date

    from identity import services as identity_services
    from identity.keys import PersonFacts
    from identity.models import EndReason

    clerk = staff(town, Role.COUNTER_CLERK)
    person = PersonFacts("前橋 一郎", date(1970, 5, 5), "大手町1-1")
    first_account, second_account = UserFactory(), UserFactory()
    first = identity_services.verification_by_counter(
        actor=clerk,
        municipality=town,
        user=first_account,
        person=person,
        document_type="my_number_card",
    )
    made = statement(converging, moderator)
    vote_cast(actor=first_account, statement_id=made.pk, value=1)
    identity_services.verification_revoke(
        actor=clerk, municipality=town, verification_id=first.pk, reason=EndReason.USER_REQUEST
    )
    identity_services.verification_by_counter(
        actor=clerk,
        municipality=town,
        user=second_account,
        person=person,
        document_type="my_number_card",
    )
    with pytest.raises(Conflict) as refused:
        vote_cast(actor=second_account, statement_id=made.pk, value=-1)
    assert refused.value.code == "other_account"
    made.refresh_from_db()
    assert (made.agree_count, made.disagree_count) == (1, 0) and Participant.objects.count() == 1
