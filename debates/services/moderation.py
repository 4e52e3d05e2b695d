"""Hiding content with a reason, reports and the moderation queue."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates.models import Comment, Contribution, Debate, Report
from debates.services.common import require_moderator
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.idempotency import stores_answer
from identity.models import User


def _debate_of(target: Contribution | Comment) -> Debate:
    if isinstance(target, Comment):
        return target.contribution.debate
    return target.debate


def _reason(reason: str, limit: int) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput(_("Give a reason."), code="empty_reason")
    return text[:limit]


@transaction.atomic(durable=True)
def content_hide(*, actor: User, target: Contribution | Comment, reason: str) -> None:
    """Hide a contribution or comment; readers see 'hidden by moderator: reason'. Open reports of
    it are resolved."""
    model = type(target)
    locked = model.objects.select_for_update().filter(pk=target.pk).first()
    if locked is None:
        raise NotFound(_("No such contribution or comment."))
    debate = _debate_of(locked)
    require_moderator(actor, debate)
    text = _reason(reason, 300)
    if locked.is_hidden:
        raise Conflict(_("This was hidden already."), code="already_hidden")
    now = timezone.now()
    locked.hidden_at = now
    locked.hidden_reason = text
    locked.hidden_by = actor
    locked.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    field = "comment" if isinstance(locked, Comment) else "contribution"
    resolved = (
        Report.objects.open().filter(**{field: locked}).update(resolved_at=now, resolved_by=actor)
    )
    target.hidden_at, target.hidden_reason, target.hidden_by = now, text, actor
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action=f"debate.{field}_hide",
        target=locked,
        data={"reason": text, "reports_resolved": resolved},
    )


@transaction.atomic(durable=True)
@stores_answer
def report_file(*, actor: User, target: Contribution | Comment, reason: str) -> Report:
    """Anyone signed in may report; one open report per person and target."""
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("Please sign in first."), code="not_signed_in")
    text = _reason(reason, 500)
    field = "comment" if isinstance(target, Comment) else "contribution"
    try:
        with transaction.atomic():
            report = Report.objects.create(reporter=actor, reason=text, **{field: target})
    except IntegrityError:
        raise Conflict(
            _("You have reported this already; a moderator will look at it."),
            code="already_reported",
        ) from None
    audit_record(
        actor=actor,
        municipality=_debate_of(target).municipality,
        action="debate.report_file",
        target=report,
        data={field: target.pk},
    )
    return report


@transaction.atomic(durable=True)
def report_resolve(*, actor: User, report_id: int) -> Report:
    """Close a report without hiding its target (hiding closes the reports itself)."""
    report = (
        Report.objects.select_for_update(of=("self",))
        .select_related("contribution__debate__municipality", "comment__contribution__debate")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound(_("No such report."))
    debate = _debate_of(report.target)
    require_moderator(actor, debate)
    if report.resolved_at is not None:
        raise Conflict(_("This report was resolved already."), code="already_resolved")
    report.resolved_at = timezone.now()
    report.resolved_by = actor
    report.save(update_fields=["resolved_at", "resolved_by"])
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.report_resolve",
        target=report,
    )
    return report
