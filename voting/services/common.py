"""Helpers shared by the voting services."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _

from identity.errors import Conflict, NotFound
from identity.keys import keyed_hash
from identity.models import Municipality
from voting.election import ElectionContext
from voting.models import Election, Status


def get_election(
    election_id: int, municipality: Municipality, *, lock: bool = False, only: Collection[str] = ()
) -> Election:
    qs = Election.objects.filter(pk=election_id, municipality=municipality)
    if lock:
        qs = qs.select_for_update()
    if only:
        qs = qs.only(*only)
    election = qs.first()
    if election is None:
        raise NotFound(_("No such election here."), code="not_found")
    return election


def require_status(election: Election, *allowed: str) -> None:
    if election.status not in allowed:
        if election.status != Status.DRAFT and Status.DRAFT in allowed:
            raise Conflict(
                _("The election is frozen: its questions, voter roll and keys cannot change."),
                code="election_frozen",
            )
        raise Conflict(
            _("This cannot be done while the election is “%(status)s”.")
            % {"status": election.get_status_display()},
            code="illegal_transition",
        )


def voter_alias(election: Election, person_key: str) -> str:
    """The voter's pseudonym in the public record: a keyed hash, so nobody without the identity
    key can tell who it is, and it differs between elections."""
    return keyed_hash("voter-alias", str(election.uuid), person_key)


@lru_cache(maxsize=32)
def _context(election_hash: str, joint_public_key: str, questions_json: str) -> ElectionContext:
    import json

    return ElectionContext.from_parts(election_hash, joint_public_key, json.loads(questions_json))


def election_context(header: dict[str, Any]) -> ElectionContext:
    """The library's context for a frozen election, built once per process (the header never
    changes after freezing, and building the key table costs a few milliseconds)."""
    import json

    return _context(
        header["election_hash"],
        header["joint_public_key"],
        json.dumps(header["election"]["questions"], sort_keys=True),
    )


_CONTEXTS: dict[str, ElectionContext] = {}


def context_by_hash(election_id: int, election_hash: str) -> ElectionContext:
    """The context of a frozen election, cached by its hash (a content hash: safe to share
    between elections and never stale), so the cast path does not read the header."""
    ctx = _CONTEXTS.get(election_hash)
    if ctx is None:
        header = Election.objects.filter(pk=election_id).values_list("header", flat=True).get()
        assert header is not None, "a frozen election has its header"
        ctx = election_context(header)
        if len(_CONTEXTS) >= 64:
            _CONTEXTS.clear()
        _CONTEXTS[election_hash] = ctx
    return ctx
