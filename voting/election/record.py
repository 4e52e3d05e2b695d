"""Assembling the election record from what the server holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voting.election.encoding import to_hex
from voting.election.group import P, group_json
from voting.election.hashing import ballot_tracker, election_hash
from voting.election.verifier import SPEC_VERSION


def joint_public_key(trustees: Sequence[Mapping[str, Any]]) -> str:
    """Product of the trustees' public keys, as the record writes it."""
    y = 1
    for t in trustees:
        y = y * int(t["public_key"], 16) % int(P)
    return to_hex(y)


def election_header(
    election: Mapping[str, Any], trustees: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """election, group, trustees, joint_public_key and election_hash: fixed before voting."""
    joint = joint_public_key(trustees)
    group = group_json()
    return {
        "election": dict(election),
        "group": group,
        "trustees": [dict(t) for t in trustees],
        "joint_public_key": joint,
        "election_hash": election_hash(election, group, list(trustees), joint),
    }


def ballot_entry(ballot: Mapping[str, Any], cast_at: str) -> dict[str, Any]:
    """A received ballot as the record lists it; `counted` is settled by mark_counted."""
    return {
        "alias": ballot["alias"],
        "cast_at": cast_at,
        "tracker": ballot_tracker(ballot),
        "counted": False,
        "answers": ballot["answers"],
    }


def mark_counted(ballots: Sequence[dict[str, Any]]) -> None:
    """Each voter's last ballot counts (re-voting protects against coercion)."""
    last = {b["alias"]: i for i, b in enumerate(ballots)}
    for i, b in enumerate(ballots):
        b["counted"] = last[b["alias"]] == i


def build_record(
    header: Mapping[str, Any],
    voter_aliases: Sequence[str],
    ballots: Sequence[Mapping[str, Any]],
    encrypted_tally: Sequence[Mapping[str, Any]],
    decryptions: Sequence[Mapping[str, Any]],
    results: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The complete `mebuku-election-record/1` object, keys in the spec's order."""
    return {
        "spec": SPEC_VERSION,
        "election": header["election"],
        "group": header["group"],
        "trustees": header["trustees"],
        "joint_public_key": header["joint_public_key"],
        "election_hash": header["election_hash"],
        "voter_roll": {"size": len(voter_aliases), "aliases": list(voter_aliases)},
        "ballots": list(ballots),
        "encrypted_tally": list(encrypted_tally),
        "decryptions": list(decryptions),
        "results": list(results),
    }


def trustee_request(
    header: Mapping[str, Any], encrypted_tally: Sequence[Mapping[str, Any]], trustee_id: str
) -> dict[str, Any]:
    """tally.json for `python -m voting.trustee decrypt`: enough to recompute the
    election hash, the encrypted tally, and which trustee is asked."""
    return {
        "election": header["election"],
        "group": header["group"],
        "trustees": header["trustees"],
        "joint_public_key": header["joint_public_key"],
        "election_hash": header["election_hash"],
        "encrypted_tally": list(encrypted_tally),
        "trustee_id": trustee_id,
    }
