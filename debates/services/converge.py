"""The converge phase: statements (written by moderators from contributions, or proposed by
participants and moderated), and agree / disagree / pass votes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates import events, phases
from debates.models import (
    STATEMENT_MAX_LENGTH,
    VOTE_COUNTER,
    Contribution,
    Debate,
    Participant,
    Statement,
    StatementOrigin,
    StatementSource,
    StatementStatus,
    Vote,
    VoteValue,
)
from debates.services.common import debate_get, require_moderator, require_part
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound
from identity.idempotency import stores_answer
from identity.models import User


def _statement_text(text: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise InvalidInput(_("Write the statement."), code="empty")
    if len(value) > STATEMENT_MAX_LENGTH:
        raise InvalidInput(
            _("A statement is at most %(limit)d characters.") % {"limit": STATEMENT_MAX_LENGTH},
            code="too_long",
        )
    return value


def _sources(debate: Debate, contribution_ids: Sequence[int]) -> list[Contribution]:
    wanted = sorted(set(contribution_ids))
    found = list(Contribution.objects.filter(debate=debate, pk__in=wanted).order_by("pk"))
    if len(found) != len(wanted):
        raise NotFound(_("No such contribution in this debate."), code="no_such_contribution")
    if any(c.is_hidden for c in found):
        raise Conflict(_("A hidden contribution cannot be a source."), code="hidden")
    return found


def _not_duplicate(debate: Debate, text: str, exclude: int | None = None) -> None:
    same = Statement.objects.filter(debate=debate, text=text).exclude(
        status=StatementStatus.REJECTED
    )
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise Conflict(_("This statement exists already."), code="duplicate_statement")


def _statement_locked(statement_id: int) -> Statement:
    statement = (
        Statement.objects.select_for_update(of=("self",))
        .select_related("debate__municipality")
        .filter(pk=statement_id)
        .first()
    )
    if statement is None:
        raise NotFound(_("No such statement."))
    return statement


@transaction.atomic(durable=True)
def statement_create_from_contributions(
    *, actor: User, debate_id: int, text: str, contribution_ids: Sequence[int] = ()
) -> Statement:
    """A moderator writes a statement, usually merging similar contributions (kept as sources).
    It is published at once. Allowed in any phase, so statements can be prepared during
    diverge."""
    debate = debate_get(debate_id)
    require_moderator(actor, debate)
    value = _statement_text(text)
    sources = _sources(debate, contribution_ids)
    _not_duplicate(debate, value)
    now = timezone.now()
    statement = Statement.objects.create(
        debate=debate,
        text=value,
        origin=StatementOrigin.MODERATOR,
        author=actor,
        status=StatementStatus.PUBLISHED,
        moderated_at=now,
        moderated_by=actor,
        created_at=now,
        updated_at=now,
    )
    StatementSource.objects.bulk_create(
        StatementSource(statement=statement, contribution=c) for c in sources
    )
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.statement_create",
        target=statement,
        data={"debate": debate.pk, "text": value, "sources": [c.pk for c in sources]},
    )
    events.publish(debate.pk, "statement_published", {"id": statement.pk})
    return statement


@transaction.atomic(durable=True)
def statement_edit(
    *,
    actor: User,
    statement_id: int,
    text: str,
    add_contribution_ids: Sequence[int] = (),
) -> Statement:
    """A moderator rewords a statement (before anyone voted on it: votes were cast on the words)
    and may link more source contributions (merging them in)."""
    statement = _statement_locked(statement_id)
    debate = statement.debate
    require_moderator(actor, debate)
    value = _statement_text(text)
    sources = _sources(debate, add_contribution_ids)
    if value != statement.text:
        if statement.vote_count:
            raise Conflict(
                _("People have voted on this statement; write a new statement instead."),
                code="has_votes",
            )
        _not_duplicate(debate, value, exclude=statement.pk)
    before = statement.text
    statement.text = value
    statement.updated_at = timezone.now()
    statement.save(update_fields=["text", "updated_at"])
    linked = set(
        StatementSource.objects.filter(statement=statement).values_list(
            "contribution_id", flat=True
        )
    )
    added = [c for c in sources if c.pk not in linked]
    StatementSource.objects.bulk_create(
        StatementSource(statement=statement, contribution=c) for c in added
    )
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.statement_edit",
        target=statement,
        data={"before": before, "text": value, "sources_added": [c.pk for c in added]},
    )
    return statement


def _participant(debate: Debate, actor: User, person_key: str) -> Participant:
    """The actor's pseudonymous participant row in this debate (created on first use)."""
    try:
        participant, _created = Participant.objects.get_or_create(
            debate=debate, user=actor, defaults={"person_key": person_key}
        )
    except IntegrityError:
        # The same person (person_key) takes part already, through another account.
        raise Conflict(
            _("You take part in this debate with another account already."),
            code="other_account",
        ) from None
    return participant


# Pending statements one person may have waiting for a moderator at a time.
MAX_PENDING_PER_PERSON = 10


@transaction.atomic(durable=True)
@stores_answer
def statement_submit(*, actor: User, debate_id: int, text: str) -> Statement:
    """A participant proposes a statement in the converge phase; it waits for a moderator."""
    debate = debate_get(debate_id)
    decision = require_part(actor, debate, phases.PROPOSE_STATEMENT, timezone.now())
    value = _statement_text(text)
    _participant(debate, actor, decision.person_key)
    pending = Statement.objects.filter(
        debate=debate, author=actor, status=StatementStatus.PENDING
    ).count()
    if pending >= MAX_PENDING_PER_PERSON:
        raise Conflict(
            _("Wait until a moderator has looked at your earlier statements."),
            code="too_many_pending",
        )
    _not_duplicate(debate, value)
    statement = Statement.objects.create(
        debate=debate, text=value, origin=StatementOrigin.PARTICIPANT, author=actor
    )
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.statement_submit",
        target=statement,
        data={"debate": debate.pk, "text": value},
    )
    return statement


@transaction.atomic(durable=True)
def statement_moderate(
    *, actor: User, statement_id: int, publish: bool, reason: str = ""
) -> Statement:
    """Publish a proposed statement, or reject it with a reason (shown to its author)."""
    statement = _statement_locked(statement_id)
    debate = statement.debate
    require_moderator(actor, debate)
    if statement.status != StatementStatus.PENDING:
        raise Conflict(_("This statement was moderated already."), code="already_moderated")
    text = reason.strip()[:300]
    if not publish and not text:
        raise InvalidInput(_("Give a reason."), code="empty_reason")
    statement.status = StatementStatus.PUBLISHED if publish else StatementStatus.REJECTED
    statement.moderation_reason = text
    statement.moderated_at = timezone.now()
    statement.moderated_by = actor
    statement.save(update_fields=["status", "moderation_reason", "moderated_at", "moderated_by"])
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.statement_publish" if publish else "debate.statement_reject",
        target=statement,
        data={"reason": text},
    )
    if publish:
        events.publish(debate.pk, "statement_published", {"id": statement.pk})
    return statement


@dataclass(frozen=True)
class VoteResult:
    value: int
    previous: int | None  # None: a first vote
    changed: bool  # False: the same vote again, nothing written


@transaction.atomic(durable=True)
@stores_answer
def vote_cast(*, actor: User, statement_id: int, value: int) -> VoteResult:
    """Agree (1), disagree (-1) or pass (0) on a published statement; a later vote replaces the
    earlier one. One row per participant and statement (unique constraint; a concurrent second
    insert waits, fails and updates instead). Counters are updated last."""
    if value not in VOTE_COUNTER:
        raise InvalidInput(_("Vote agree, disagree or pass."), code="invalid_vote")
    vote_value = VoteValue(value)
    statement = (
        Statement.objects.select_related("debate__municipality").filter(pk=statement_id).first()
    )
    if statement is None or statement.status != StatementStatus.PUBLISHED:
        raise NotFound(_("No such statement."))
    debate = statement.debate
    now = timezone.now()
    decision = require_part(actor, debate, phases.VOTE, now)
    participant = _participant(debate, actor, decision.person_key)
    vote = Vote.objects.select_for_update().filter(statement=statement, participant=participant)
    existing = vote.first()
    if existing is None:
        try:
            with transaction.atomic():
                Vote.objects.create(
                    statement=statement,
                    participant=participant,
                    value=vote_value,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            existing = vote.get()  # a concurrent first vote won; change it
    previous = None if existing is None else VoteValue(existing.value)
    if previous == vote_value:
        return VoteResult(value=vote_value, previous=previous, changed=False)
    if existing is not None:
        existing.value = vote_value
        existing.updated_at = now
        existing.save(update_fields=["value", "updated_at"])
    # No audit entry: a participant's agree/disagree is not recorded per person in the staff log
    # (docs/design.md, "Secrecy"); the statement's counters are the public record.
    Debate.objects.filter(pk=debate.pk, opinions_dirty_since__isnull=True).update(
        opinions_dirty_since=now
    )
    counters: dict[str, F | object] = {VOTE_COUNTER[vote_value]: F(VOTE_COUNTER[vote_value]) + 1}
    if previous is not None:
        counters[VOTE_COUNTER[previous]] = F(VOTE_COUNTER[previous]) - 1
    Statement.objects.filter(pk=statement.pk).update(**counters)
    from debates.outbox import opinions_dirty

    opinions_dirty(debate.pk)
    return VoteResult(value=vote_value, previous=previous, changed=True)
