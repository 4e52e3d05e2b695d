"""The diverge phase: contributions, threaded comments and 'this helped me think' reactions."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates import events, phases
from debates.models import MAX_COMMENT_DEPTH, Comment, Contribution, Reaction
from debates.services.common import contribution_get, debate_get, require_part
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound
from identity.idempotency import stores_answer
from identity.models import User


def _text(value: str, limit: int, message: str, code: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(message, code=code)
    if len(text) > limit:
        raise InvalidInput(_("The text is too long."), code="too_long")
    return text


def _visible(contribution: Contribution) -> None:
    if contribution.is_hidden:
        raise Conflict(_("This contribution was hidden by a moderator."), code="hidden")


@transaction.atomic(durable=True)
@stores_answer
def contribution_add(
    *, actor: User, debate_id: int, body: str, title: str = "", category: str = ""
) -> Contribution:
    debate = debate_get(debate_id)
    require_part(actor, debate, phases.CONTRIBUTE, timezone.now())
    contribution = Contribution.objects.create(
        debate=debate,
        author=actor,
        title=title.strip()[:120],
        body=_text(body, 10_000, str(_("Write your contribution.")), "empty"),
        category=category.strip()[:40],
    )
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.contribution_add",
        target=contribution,
        data={"debate": debate.pk},
    )
    events.publish(debate.pk, "contribution_added", {"id": contribution.pk})
    return contribution


@transaction.atomic(durable=True)
@stores_answer
def comment_add(
    *, actor: User, contribution_id: int, body: str, parent_id: int | None = None
) -> Comment:
    """Comment on a contribution, or reply to a comment; threads are two levels deep."""
    contribution = contribution_get(contribution_id)
    debate = contribution.debate
    require_part(actor, debate, phases.COMMENT, timezone.now())
    _visible(contribution)
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, contribution=contribution).first()
        if parent is None:
            raise NotFound(_("No such comment."))
        depth = 2
        ancestor = parent
        while ancestor.parent_id is not None:
            depth += 1
            ancestor = Comment.objects.get(pk=ancestor.parent_id)
        if depth > MAX_COMMENT_DEPTH:
            raise InvalidInput(
                _("Replies go two levels deep: reply to the comment above instead."),
                code="too_deep",
            )
    comment = Comment.objects.create(
        contribution=contribution,
        parent=parent,
        author=actor,
        body=_text(body, 4_000, str(_("Write your comment.")), "empty"),
    )
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.comment_add",
        target=comment,
        data={"contribution": contribution.pk, "parent": parent_id},
    )
    return comment


@transaction.atomic(durable=True)
@stores_answer
def reaction_toggle(*, actor: User, contribution_id: int, on: bool = True) -> bool:
    """Set or clear `actor`'s 'this helped me think'. Idempotent: returns False, writing nothing,
    when the reaction is already in the asked state (a double click, or a concurrent request)."""
    contribution = contribution_get(contribution_id)
    debate = contribution.debate
    require_part(actor, debate, phases.REACT, timezone.now())
    if on:
        _visible(contribution)
        try:
            with transaction.atomic():
                Reaction.objects.create(contribution=contribution, user=actor)
        except IntegrityError:
            return False
    else:
        deleted, _rows = Reaction.objects.filter(contribution=contribution, user=actor).delete()
        if not deleted:
            return False
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.reaction_add" if on else "debate.reaction_remove",
        target=contribution,
    )
    return True
