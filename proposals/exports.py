"""The public record of proposals as CSV (column sets documented in docs/csv-proposals.md), and the
election office's signatory list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from identity.selectors import people_of_verifications
from proposals.models import CouncilAnswer, Proposal
from proposals.selectors import signatures_in_order

PROPOSAL_COLUMNS = (
    "id",
    "type",
    "title",
    "status",
    "category",
    "created_at",
    "collection_opens_at",
    "collection_closes_at",
    "signature_count",
    "threshold",
    "threshold_reached_at",
    "certified_count",
    "submitted_at",
    "answer_due_on",
    "decision",
    "answered_at",
)
DAILY_COLUMNS = ("date", "new_signatures", "total_signatures")
ANSWER_COLUMNS = ("proposal_id", "title", "decision", "reasons", "answered_at")
SIGNATORY_COLUMNS = (
    "signature_id",
    "channel",
    "signed_at",
    "name",
    "birth_date",
    "address",
    "sheet",
    "method",
    "age_bracket",
    "withdrawn_at",
    "invalid_reason",
)


def proposal_rows(proposals: QuerySet[Proposal]) -> Iterator[list[Any]]:
    for proposal in proposals.select_related("type", "answer").iterator(chunk_size=500):
        answer = getattr(proposal, "answer", None)
        yield [
            proposal.pk,
            proposal.type.name,
            proposal.title,
            proposal.status,
            proposal.category,
            proposal.created_at,
            proposal.collection_opens_at,
            proposal.collection_closes_at,
            proposal.signature_count,
            proposal.threshold,
            proposal.threshold_reached_at,
            proposal.certified_count,
            proposal.submitted_at,
            proposal.answer_due_on,
            answer.decision if answer else "",
            answer.answered_at if answer else None,
        ]


def answer_rows(answers: QuerySet[CouncilAnswer]) -> Iterator[list[Any]]:
    for answer in answers.select_related("proposal").iterator(chunk_size=500):
        yield [
            answer.proposal_id,
            answer.proposal.title,
            answer.decision,
            answer.reasons,
            answer.answered_at,
        ]


def signatory_rows(proposal: Proposal) -> Iterator[list[Any]]:
    """Names come from identity for signers with a verification; a register-matched paper entry
    is identified by its sheet, the legal original kept by the city office."""
    signatures = signatures_in_order(proposal)
    for chunk_start in range(0, signatures.count(), 1000):
        chunk = list(signatures[chunk_start : chunk_start + 1000])
        people = people_of_verifications([s.verification_id for s in chunk if s.verification_id])
        for signature in chunk:
            person = people.get(signature.verification_id or 0)
            yield [
                signature.pk,
                signature.channel,
                signature.signed_at,
                person.name if person else "",
                person.birth_date if person else "",
                person.address if person else "",
                signature.sheet,
                signature.method,
                signature.age_bracket,
                signature.withdrawn_at,
                signature.invalid_reason,
            ]
