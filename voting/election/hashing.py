"""Fiat-Shamir hash H, the election hash and ballot trackers (spec definitions)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from voting.election.encoding import canonical, sha256_hex, to_hex
from voting.election.group import Q


def fs_hash(tag: str, *fields: int | str) -> int:
    """H(tag, x1, ..., xn): SHA-256 of "tag|x1|...|xn", big-endian, mod q.

    Strings go in as they are (the election hash is a hex *string* and keeps its leading
    zeros); everything else is an integer and goes in as lowercase hex.
    """
    parts = [tag]
    for field in fields:
        parts.append(field if isinstance(field, str) else to_hex(field))
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest, "big") % int(Q)


def election_hash(
    election: Mapping[str, Any],
    group: Mapping[str, Any],
    trustees: list[Any],
    joint_public_key: str,
) -> str:
    return sha256_hex(
        canonical(
            {
                "election": election,
                "group": group,
                "trustees": trustees,
                "joint_public_key": joint_public_key,
            }
        )
    )


def ballot_tracker(ballot: Mapping[str, Any]) -> str:
    """SHA-256 hex of canonical({"alias", "answers"}); other keys do not count."""
    return sha256_hex(canonical({"alias": ballot["alias"], "answers": ballot["answers"]}))
