"""Editing a proposal's text while it is still being prepared (before collection opens)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, InvalidFields, PermissionDenied
from identity.idempotency import stores_answer
from identity.models import Municipality, User
from proposals import permissions
from proposals.models import EDITABLE, PART_LABELS, Proposal, ProposalRevision
from proposals.services.common import locked_proposal

# The longest value each field takes (the model's, and the API's and form's limits).
LIMITS = {"title": 120, "summary": 400, "body": 50_000, "category": 40, "location": 120}
REQUIRED = ("title", "summary", "body")


@dataclass(frozen=True)
class ProposalChanges:
    """New values for the parts of the text to change; None leaves a part as it is."""

    title: str | None = None
    summary: str | None = None
    body: str | None = None
    category: str | None = None
    location: str | None = None


def _cleaned(changes: ProposalChanges) -> dict[str, str]:
    """The given values, stripped; every problem at once, named by field."""
    values: dict[str, str] = {}
    problems: dict[str, list[str | Promise]] = {}
    for field in fields(changes):
        value = getattr(changes, field.name)
        if value is None:
            continue
        value = value.strip()
        part = PART_LABELS[field.name]
        if not value and field.name in REQUIRED:
            problems[field.name] = [_("%(part)s cannot be empty.") % {"part": part}]
        elif len(value) > LIMITS[field.name]:
            problems[field.name] = [
                _("%(part)s: at most %(limit)s characters (this has %(length)s).")
                % {"part": part, "limit": LIMITS[field.name], "length": len(value)}
            ]
        values[field.name] = value
    if problems:
        raise InvalidFields(problems, code="invalid_text")
    return values


@transaction.atomic(durable=True)
@stores_answer
def proposal_edit(
    *,
    actor: User,
    municipality: Municipality,
    proposal_id: int,
    changes: ProposalChanges,
    based_on: int | None = None,
) -> Proposal:
    """The author (or a confirmed promoter) changes the text before collection opens. The text
    it replaces is kept as a numbered revision; the public timeline shows the edit. `based_on`
    is the revision count the editor saw: if someone else edited meanwhile, nothing is changed
    and the editor is told (409 `edited_meanwhile`) rather than overwriting their words."""
    values = _cleaned(changes)
    proposal = locked_proposal(proposal_id, municipality)
    if not permissions.is_editor(actor, proposal):
        raise PermissionDenied(
            _("Only the author and the confirmed promoters can edit this proposal."),
            code="not_author",
        )
    if proposal.status not in EDITABLE:
        raise Conflict(
            _("The text can no longer change: signature collection has opened."),
            code="not_editable",
        )
    revisions = ProposalRevision.objects.filter(proposal=proposal).count()
    if based_on is not None and based_on != revisions:
        raise Conflict(
            _(
                "Someone else edited this proposal while you were writing. Nothing was saved: "
                "read the current text and make your changes again."
            ),
            code="edited_meanwhile",
        )
    changed = [name for name, value in values.items() if getattr(proposal, name) != value]
    if not changed:
        return proposal
    now = timezone.now()
    ProposalRevision.objects.create(
        proposal=proposal,
        number=revisions + 1,
        edited_by=actor,
        edited_at=now,
        changed=changed,
        title=proposal.title,
        summary=proposal.summary,
        body=proposal.body,
        category=proposal.category,
        location=proposal.location,
    )
    for name in changed:
        setattr(proposal, name, values[name])
    proposal.refresh_search_text()
    proposal.updated_at = now
    proposal.save(update_fields=[*changed, "search_text", "updated_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.edit",
        target=proposal,
        data={"revision": revisions + 1, "fields": changed},
    )
    return proposal
