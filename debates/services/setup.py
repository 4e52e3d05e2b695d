"""Creating a debate and setting its phases."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates import events, permissions, phases
from debates.models import Debate, DebateModerator, Phase
from debates.services.common import debate_get, require_moderator
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound
from identity.models import Municipality, User
from identity.permissions import require
from proposals.models import Proposal


@dataclass(frozen=True)
class DebateDraft:
    question: str
    background: str = ""
    min_age: int = 18
    residence_required: bool = True
    proposal_id: int | None = None
    moderator_ids: Collection[int] = field(default_factory=tuple)


@dataclass(frozen=True)
class PhaseSpec:
    kind: str
    starts_at: datetime
    ends_at: datetime


@transaction.atomic(durable=True)
def debate_create(*, actor: User, municipality: Municipality, draft: DebateDraft) -> Debate:
    require(permissions.can_create_debate(actor, municipality))
    question = draft.question.strip()
    if not question:
        raise InvalidInput(_("Write the question of the debate."), code="empty_question")
    if draft.min_age < 0 or draft.min_age > 130:
        raise InvalidInput(_("Enter a minimum age between 0 and 130."), code="invalid_min_age")
    proposal = None
    if draft.proposal_id is not None:
        proposal = Proposal.objects.filter(pk=draft.proposal_id, municipality=municipality).first()
        if proposal is None:
            raise NotFound(_("No such proposal here."))
    debate = Debate.objects.create(
        municipality=municipality,
        proposal=proposal,
        question=question[:200],
        background=draft.background,
        min_age=draft.min_age,
        residence_required=draft.residence_required,
        created_by=actor,
    )
    moderator_ids = sorted(set(draft.moderator_ids))
    found = set(User.objects.filter(pk__in=moderator_ids).values_list("pk", flat=True))
    if found != set(moderator_ids):
        raise NotFound(_("No such user."), code="no_such_moderator")
    DebateModerator.objects.bulk_create(
        DebateModerator(debate=debate, user_id=user_id) for user_id in moderator_ids
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="debate.create",
        target=debate,
        data={
            "proposal": draft.proposal_id,
            "min_age": debate.min_age,
            "residence_required": debate.residence_required,
            "moderators": moderator_ids,
        },
    )
    return debate


def phases_check(specs: Sequence[PhaseSpec]) -> None:
    """Refuse unknown kinds, empty phases, and overlaps or gaps between consecutive phases."""
    for spec in specs:
        if spec.kind not in phases.REGISTRY:
            raise InvalidInput(_("Choose a kind for every phase."), code="phase_kind_unknown")
        if spec.starts_at.tzinfo is None or spec.ends_at.tzinfo is None:
            raise InvalidInput(_("Enter phase dates with a time zone."), code="phase_naive")
        if spec.ends_at <= spec.starts_at:
            raise InvalidInput(
                _("Every phase must end after it starts."), code="phase_ends_before_start"
            )
    for previous, following in pairwise(specs):
        if following.starts_at < previous.ends_at:
            raise InvalidInput(
                _("Phases must not overlap: each phase starts when the previous one ends."),
                code="phase_overlap",
            )
        if following.starts_at > previous.ends_at:
            raise InvalidInput(
                _("Phases must not leave a gap: each phase starts when the previous one ends."),
                code="phase_gap",
            )


@transaction.atomic(durable=True)
def phases_set(*, actor: User, debate_id: int, phases: Sequence[PhaseSpec]) -> list[Phase]:
    """Replace the debate's phases with `phases` (in order), or change nothing."""
    debate = debate_get(debate_id, lock=True)
    require_moderator(actor, debate)
    specs = list(phases)
    phases_check(specs)
    now = timezone.now()
    before = phase_current(debate, now)
    Phase.objects.filter(debate=debate).delete()
    # Phases that have started are announced here (if the running one changed), not by beat.
    created = Phase.objects.bulk_create(
        Phase(
            debate=debate,
            kind=spec.kind,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            announced_at=now if spec.starts_at <= now else None,
        )
        for spec in specs
    )
    after = phase_current(debate, now)
    if (before and before.kind, before and before.starts_at) != (
        after and after.kind,
        after and after.starts_at,
    ):
        _announce(debate.pk, after)
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.phases_set",
        target=debate,
        data={
            "phases": [
                {
                    "kind": s.kind,
                    "starts_at": s.starts_at.isoformat(),
                    "ends_at": s.ends_at.isoformat(),
                }
                for s in specs
            ]
        },
    )
    return created


def phase_current(debate: Debate, at: datetime) -> Phase | None:
    """The phase running at `at` (start inclusive, end exclusive), or None."""
    return permissions.phase_at(debate, at)


def _announce(debate_id: int, phase: Phase | None) -> None:
    events.publish(
        debate_id,
        "phase_changed",
        {"phase": phase.kind if phase else "", "id": phase.pk if phase else None},
    )


@transaction.atomic(durable=True)
def phase_advance(*, actor: User, debate_id: int) -> Phase:
    """End the running phase now and start the next one now (its end stays as planned). Before the
    first phase, start it now. Later phases keep their dates, so phases still meet exactly."""
    debate = debate_get(debate_id, lock=True)
    require_moderator(actor, debate)
    now = timezone.now()
    # Locked in pk order, as every multi-row lock is, so two writers cannot deadlock; the
    # decisions below need the phases in time order.
    locked = Phase.objects.select_for_update().filter(debate=debate).order_by("pk")
    rows = sorted(locked, key=lambda p: (p.starts_at, p.pk))
    current = next((p for p in rows if p.starts_at <= now < p.ends_at), None)
    if current is None:
        upcoming = [p for p in rows if p.starts_at > now]
        if not upcoming:  # no gaps between phases: nothing upcoming means all are over
            raise Conflict(_("There is no next phase to start."), code="no_next_phase")
        following = upcoming[0]
    else:
        index = rows.index(current)
        if index + 1 >= len(rows):
            raise Conflict(_("There is no next phase to start."), code="no_next_phase")
        if current.starts_at >= now:
            raise Conflict(_("This phase has only just started."), code="phase_just_started")
        following = rows[index + 1]
        current.ends_at = now
        current.save(update_fields=["ends_at"])
    previous_start = following.starts_at
    following.starts_at = now
    following.announced_at = now
    following.save(update_fields=["starts_at", "announced_at"])
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.phase_advance",
        target=debate,
        data={
            "ended": current.kind if current else None,
            "started": following.kind,
            "planned_start": previous_start.isoformat(),
            "at": now.isoformat(),
        },
    )
    _announce(debate.pk, following)
    return following


def phases_announce_due() -> int:
    """Beat: broadcast `phase_changed` once for each phase whose start has passed. The claim is an
    UPDATE of `announced_at` from NULL, so two beats never announce the same phase twice; a phase
    that has ended by the time it is noticed is marked without a broadcast."""
    now = timezone.now()
    announced = 0
    due = list(
        Phase.objects.filter(announced_at__isnull=True, starts_at__lte=now)
        .order_by("starts_at", "pk")
        .values_list("pk", "debate_id", "kind", "ends_at")[:500]
    )
    for pk, debate_id, kind, ends_at in due:
        with transaction.atomic(durable=True):
            claimed = Phase.objects.filter(pk=pk, announced_at__isnull=True).update(
                announced_at=now
            )
            if claimed and ends_at > now:
                events.publish(debate_id, "phase_changed", {"phase": kind, "id": pk})
                announced += 1
    return announced
