"""Phases over time (advance, announcements), permissions per role and phase kind, the
conclusion and its proposal draft."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from debates import events, permissions, phases
from debates.models import Conclusion, Debate, Phase
from debates.services import (
    conclusion_to_proposal_draft,
    phase_advance,
    phases_announce_due,
    summary_publish,
)
from identity.errors import Conflict, InvalidInput, PermissionDenied
from identity.models import AuditEntry, Municipality, Role, User
from proposals.models import Proposal, Status
from tests.factories import (
    DebateFactory,
    ProposalTypeFactory,
    UserFactory,
    staff,
    verified,
)


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


# Permissions per role and phase kind -------------------------------------------------------------

ROLES = ("anonymous", "unverified", "resident", "under_age", "moderator_only")


def _person(role: str, town: Municipality) -> User | AnonymousUser:
    if role == "anonymous":
        return AnonymousUser()
    if role == "unverified":
        return UserFactory()
    if role == "resident":
        return verified(town)
    if role == "under_age":
        today = timezone.localdate()
        return verified(town, birth=today.replace(year=today.year - 16))
    return staff(town, Role.MODERATOR)  # a moderator who is not a verified resident


EXPECTED_CODE = {
    "anonymous": "not_signed_in",
    "unverified": "not_verified",
    "under_age": "under_age",
    "moderator_only": "not_verified",
}


@pytest.mark.parametrize("kind", sorted(phases.REGISTRY))
@pytest.mark.parametrize("role", ROLES)
def test_taking_part_per_role_and_phase_kind(
    kind: str, role: str, town: Municipality, moderator: User
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=(kind,))
    person = _person(role, town)
    now = timezone.now()
    for action in sorted(phases.ACTIONS):
        decision = permissions.can_take_part(person, debate, action, now)
        if not phases.phase_allows(kind, action):
            assert decision.code == "action_not_in_phase", (role, kind, action)
        elif role == "resident":
            assert decision.allowed and decision.person_key, (kind, action)
        else:
            assert decision.code == EXPECTED_CODE[role], (role, kind, action)
    assert bool(permissions.can_moderate(person, debate)) is (role == "moderator_only")


# Phase advance and announcements -----------------------------------------------------------------


def test_advance_ends_the_running_phase_now_and_starts_the_next(
    town: Municipality, moderator: User
) -> None:
    debate = DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge", "conclude")
    )
    planned = list(Phase.objects.filter(debate=debate).order_by("starts_at"))
    started = phase_advance(actor=moderator, debate_id=debate.pk)
    assert started.kind == "converge" and started.announced_at is not None
    rows = list(Phase.objects.filter(debate=debate).order_by("starts_at"))
    assert rows[0].ends_at == rows[1].starts_at <= timezone.now()
    assert rows[1].ends_at == planned[1].ends_at and rows[2].starts_at == planned[2].starts_at
    assert permissions.phase_at(debate, timezone.now()) == rows[1]
    entry = AuditEntry.objects.get(action="debate.phase_advance")
    assert entry.data["ended"] == "diverge" and entry.data["started"] == "converge"
    phase_advance(actor=moderator, debate_id=debate.pk)
    with pytest.raises(Conflict) as last:
        phase_advance(actor=moderator, debate_id=debate.pk)
    assert last.value.code == "no_next_phase"
    with pytest.raises(PermissionDenied):
        phase_advance(actor=verified(town), debate_id=debate.pk)


def test_advance_before_the_first_phase_starts_it(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    Phase.objects.filter(debate=debate).update(
        starts_at=timezone.now() + timedelta(days=30), ends_at=timezone.now() + timedelta(days=31)
    )
    started = phase_advance(actor=moderator, debate_id=debate.pk)
    assert started.kind == "diverge" and started.starts_at <= timezone.now()


def _listen(debate: Debate) -> tuple[Any, str]:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.group_name(debate.pk), channel)
    return layer, channel


def _received(layer: Any, channel: str) -> list[dict[str, Any]]:
    async def drain() -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
            except TimeoutError:
                return messages

    return async_to_sync(drain)()


def test_started_phases_are_announced_once(
    town: Municipality,
    moderator: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge"))
    # Pretend nobody has announced the running phase yet (as when a start date passes).
    Phase.objects.filter(debate=debate).update(announced_at=None)
    layer, channel = _listen(debate)
    with django_capture_on_commit_callbacks(execute=True):
        assert phases_announce_due() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert phases_announce_due() == 0
    running = Phase.objects.get(debate=debate, kind="diverge")
    got = _received(layer, channel)
    assert got == [
        {
            "type": "debate.event",
            "event": "phase_changed",
            "data": {"phase": "diverge", "id": running.pk},
        }
    ]
    # A future phase is not announced before its start.
    assert Phase.objects.get(debate=debate, kind="converge").announced_at is None


def test_advance_broadcasts_phase_changed(
    town: Municipality,
    moderator: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge"))
    layer, channel = _listen(debate)
    with django_capture_on_commit_callbacks(execute=True):
        started = phase_advance(actor=moderator, debate_id=debate.pk)
    assert [m["data"] for m in _received(layer, channel)] == [
        {"phase": "converge", "id": started.pk}
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert phases_announce_due() == 0  # the advance announced it already


# The conclusion ----------------------------------------------------------------------------------


def test_summary_is_published_from_the_conclude_phase(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))
    with pytest.raises(Conflict) as early:
        summary_publish(actor=moderator, debate_id=debate.pk, summary="要約", outcome="結論")
    assert early.value.code == "not_concluding"
    phase_advance(actor=moderator, debate_id=debate.pk)
    with pytest.raises(PermissionDenied):
        summary_publish(actor=verified(town), debate_id=debate.pk, summary="要約", outcome="結論")
    with pytest.raises(InvalidInput) as incomplete:
        summary_publish(actor=moderator, debate_id=debate.pk, summary=" ", outcome="結論")
    assert incomplete.value.code == "incomplete"
    first = summary_publish(
        actor=moderator, debate_id=debate.pk, summary="屋根の要望", outcome="屋根を提案"
    )
    corrected = summary_publish(
        actor=moderator, debate_id=debate.pk, summary="屋根と日よけ", outcome="屋根を提案"
    )
    assert first.pk == corrected.pk and Conclusion.objects.get().summary == "屋根と日よけ"
    actions = list(
        AuditEntry.objects.filter(action__startswith="debate.summary").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["debate.summary_publish", "debate.summary_update"]


def test_conclusion_becomes_a_draft_proposal_of_the_resident(
    town: Municipality, moderator: User
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("conclude",))
    kind = ProposalTypeFactory(municipality=town)
    resident = verified(town)
    with pytest.raises(Conflict) as nothing:
        conclusion_to_proposal_draft(actor=resident, debate_id=debate.pk, type_id=kind.pk)
    assert nothing.value.code == "no_conclusion"
    summary_publish(
        actor=moderator,
        debate_id=debate.pk,
        summary="## 要約\n屋根の要望が多数",
        outcome="駅前広場に屋根を",
    )
    # Someone the filing rules refuse: nothing is filed, nothing linked.
    with pytest.raises(PermissionDenied):
        conclusion_to_proposal_draft(actor=UserFactory(), debate_id=debate.pk, type_id=kind.pk)
    assert not Proposal.objects.exists() and Conclusion.objects.get().proposal is None
    proposal = conclusion_to_proposal_draft(actor=resident, debate_id=debate.pk)  # default type
    assert proposal.status == Status.DRAFT and proposal.author == resident
    assert proposal.title == debate.question and proposal.summary == "駅前広場に屋根を"
    assert "屋根の要望が多数" in proposal.body
    assert Conclusion.objects.get().proposal == proposal
    assert AuditEntry.objects.filter(action="proposal.file").count() == 1
    with pytest.raises(Conflict) as twice:
        conclusion_to_proposal_draft(actor=resident, debate_id=debate.pk, type_id=kind.pk)
    assert twice.value.code == "already_linked"


def test_conclusion_attaches_to_the_debated_proposal(town: Municipality, moderator: User) -> None:
    kind = ProposalTypeFactory(municipality=town)
    author = verified(town)
    from proposals.services import ProposalDraft, proposal_file

    debated = proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=ProposalDraft(title="屋根", summary="屋根を", body="本文"),
    )
    debate = DebateFactory(
        municipality=town, created_by=moderator, phases=("conclude",), proposal=debated
    )
    summary_publish(actor=moderator, debate_id=debate.pk, summary="要約", outcome="結論")
    with pytest.raises(PermissionDenied):
        conclusion_to_proposal_draft(actor=author, debate_id=debate.pk)
    attached = conclusion_to_proposal_draft(actor=moderator, debate_id=debate.pk)
    assert attached == debated and Proposal.objects.count() == 1
    assert AuditEntry.objects.filter(action="debate.conclusion_attach").count() == 1


def test_no_open_proposal_type_is_a_conflict(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("conclude",))
    summary_publish(actor=moderator, debate_id=debate.pk, summary="要約", outcome="結論")
    with pytest.raises(Conflict) as refused:
        conclusion_to_proposal_draft(actor=verified(town), debate_id=debate.pk)
    assert refused.value.code == "no_proposal_type"


def test_writes_broadcast_their_events(
    town: Municipality,
    moderator: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from debates.services import (
        contribution_add,
        statement_create_from_contributions,
        statement_moderate,
        statement_submit,
        vote_cast,
    )

    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge"))
    resident = verified(town)
    layer, channel = _listen(debate)
    with django_capture_on_commit_callbacks(execute=True):
        contribution = contribution_add(actor=resident, debate_id=debate.pk, body="屋根を")
    with django_capture_on_commit_callbacks(execute=True):
        made = statement_create_from_contributions(
            actor=moderator, debate_id=debate.pk, text="屋根を", contribution_ids=[contribution.pk]
        )
    with django_capture_on_commit_callbacks(execute=True):
        phase_advance(actor=moderator, debate_id=debate.pk)
    with django_capture_on_commit_callbacks(execute=True):
        proposed = statement_submit(actor=resident, debate_id=debate.pk, text="ベンチを")
    with django_capture_on_commit_callbacks(execute=True):
        statement_moderate(actor=moderator, statement_id=proposed.pk, publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        vote_cast(actor=resident, statement_id=made.pk, value=1)  # computes at once (eager)
    got = [(m["event"], m["data"].get("id")) for m in _received(layer, channel)]
    snapshot = debate.opinion_snapshots.get()
    converge = Phase.objects.get(debate=debate, kind="converge")
    assert got == [
        ("contribution_added", contribution.pk),
        ("statement_published", made.pk),
        ("phase_changed", converge.pk),
        ("statement_published", proposed.pk),
        ("opinions_updated", snapshot.pk),
    ]
