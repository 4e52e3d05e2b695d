"""Spec encodings: hex integers, canonical JSON, H, election hash, tracker."""

from __future__ import annotations

import hashlib
import json

from voting.election.encoding import canonical, from_hex, to_hex
from voting.election.group import Q
from voting.election.hashing import ballot_tracker, election_hash, fs_hash


def test_hex_round_trip() -> None:
    assert to_hex(0) == "0" and to_hex(255) == "ff" and from_hex("ff") == 255
    assert from_hex("0") == 0


def test_canonical_sorted_compact_unicode() -> None:
    assert (
        canonical({"b": 1, "a": ["め", {"d": 2, "c": 3}]})
        == '{"a":["め",{"c":3,"d":2}],"b":1}'.encode()
    )


def test_fs_hash_definition() -> None:
    # Written out by hand from the spec text, independent of fs_hash's code.
    text = "range|00ab|alias-1|q1|ff|0|10"
    expected = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big") % int(Q)
    assert fs_hash("range", "00ab", "alias-1", "q1", 255, 0, 16) == expected
    assert fs_hash("range", "00ab", "alias-1", "q1", 255, 0, 17) != expected


def test_election_hash_and_tracker() -> None:
    election, group, trustees = {"id": "e"}, {"p": "7"}, [{"id": "t1"}]
    expected = hashlib.sha256(
        json.dumps(
            {"election": election, "group": group, "trustees": trustees, "joint_public_key": "5"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    assert election_hash(election, group, trustees, "5") == expected
    ballot = {"alias": "x", "answers": [], "counted": True, "tracker": "t"}
    assert ballot_tracker(ballot) == hashlib.sha256(b'{"alias":"x","answers":[]}').hexdigest()
