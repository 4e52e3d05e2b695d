"""The council's review: start, ask the author for clarification, attach documents, answer."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, InvalidFields, InvalidInput
from identity.idempotency import stores_answer
from identity.models import Municipality, User
from identity.permissions import require
from proposals import permissions
from proposals.documents import safe_name, sniffed_type
from proposals.models import CouncilAnswer, CouncilDocument, Decision, Proposal, Status
from proposals.services.common import locked_proposal, timeline_add, transition


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g}"


@transaction.atomic(durable=True)
def review_start(*, actor: User, municipality: Municipality, proposal_id: int) -> Proposal:
    require(permissions.can_review(actor, municipality))
    proposal = locked_proposal(proposal_id, municipality)
    transition(proposal, (Status.SUBMITTED,), Status.UNDER_REVIEW)
    now = timezone.now()
    proposal.updated_at = now
    proposal.save(update_fields=["status", "updated_at"])
    timeline_add(proposal, Status.UNDER_REVIEW, now)
    audit_record(
        actor=actor, municipality=municipality, action="proposal.review_start", target=proposal
    )
    return proposal


@transaction.atomic(durable=True)
def clarification_request(
    *, actor: User, municipality: Municipality, proposal_id: int, question: str
) -> Proposal:
    require(permissions.can_review(actor, municipality))
    proposal = locked_proposal(proposal_id, municipality)
    if proposal.status not in (Status.SUBMITTED, Status.UNDER_REVIEW):
        raise Conflict(_("The council is not reviewing this proposal."), code="illegal_transition")
    if not question.strip():
        raise InvalidInput(_("Write the question for the author."), code="empty")
    now = timezone.now()
    timeline_add(
        proposal,
        proposal.status,
        now,
        note=str(_("The council asked the author: %(q)s")) % {"q": question.strip()[:240]},
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.clarification_request",
        target=proposal,
        data={"question": question.strip()},
    )
    from proposals.outbox import clarification_requested

    clarification_requested(proposal.pk, question.strip())
    return proposal


@transaction.atomic(durable=True)
def document_attach(
    *, actor: User, municipality: Municipality, proposal_id: int, title: str, file: UploadedFile
) -> CouncilDocument:
    require(permissions.can_review(actor, municipality))
    proposal = locked_proposal(proposal_id, municipality)
    if proposal.status not in (Status.SUBMITTED, Status.UNDER_REVIEW, Status.ANSWERED):
        raise Conflict(
            _("Documents are attached to proposals before the council."), code="illegal_transition"
        )
    if not title.strip():
        raise InvalidInput(_("Give the document a title."), code="empty")
    limit = settings.MEBUKU_DOCUMENT_MAX_BYTES
    if file.size is None or file.size > limit:
        raise InvalidFields(
            {"file": [_("The file is larger than %(mb)s MB.") % {"mb": _megabytes(limit)}]},
            code="too_large",
        )
    content_type = sniffed_type(file)
    if content_type is None:
        raise InvalidFields(
            {"file": [_("This file is not a PDF, PNG or JPEG file.")]}, code="file_type"
        )
    document = CouncilDocument(
        proposal=proposal,
        title=title.strip()[:120],
        original_name=safe_name(file.name or "", content_type),
        content_type=content_type,
        size=file.size,
        uploaded_by=actor,
    )
    # The storage writes the file before the row exists; should the INSERT fail, the file stays
    # behind unreferenced (harmless: it is never served without its row).
    document.file.save("upload", file, save=False)
    document.save()
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.document_attach",
        target=document,
        data={
            "proposal": proposal.pk,
            "title": document.title,
            "type": content_type,
            "size": document.size,
        },
    )
    return document


@transaction.atomic(durable=True)
@stores_answer
def proposal_answer(
    *, actor: User, municipality: Municipality, proposal_id: int, decision: str, reasons: str
) -> CouncilAnswer:
    require(permissions.can_review(actor, municipality))
    if decision not in Decision.values:
        raise InvalidInput(_("Choose the council's decision."), code="decision")
    if len(reasons.strip()) < 20:
        raise InvalidInput(
            _("Give the reasons for the decision (at least 20 characters)."), code="reasons"
        )
    proposal = locked_proposal(proposal_id, municipality)
    transition(proposal, (Status.SUBMITTED, Status.UNDER_REVIEW), Status.ANSWERED)
    now = timezone.now()
    answer = CouncilAnswer.objects.create(
        proposal=proposal,
        decision=decision,
        reasons=reasons.strip(),
        answered_by=actor,
        answered_at=now,
    )
    proposal.updated_at = now
    proposal.save(update_fields=["status", "updated_at"])
    timeline_add(proposal, Status.ANSWERED, now, note=str(Decision(decision).label))
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.answer",
        target=proposal,
        data={"decision": decision},
    )
    from proposals.outbox import notify

    notify(proposal, "answered")
    return answer
