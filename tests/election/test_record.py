"""Whole records: honest elections verify, each tampering is caught by the right check."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voting.election.encoding import to_hex
from voting.election.group import P, g_pow
from voting.election.hashing import ballot_tracker, election_hash
from voting.election.keys import generate_key
from voting.election.verifier import verify_record
from voting.simulate import SimulatedElection, run_election

Record = dict[str, Any]


def test_honest_record_verifies(honest_election: SimulatedElection) -> None:
    record = honest_election.record
    report = verify_record(record, workers=1)
    assert report.ok, report.to_text()
    assert [r["counts"] for r in report.results] == honest_election.expected_counts
    assert report.counted_ballots == sum(b["counted"] for b in record["ballots"]) == 7
    assert report.cast_ballots == 11
    assert verify_record(record, workers=1, strict=True).ok
    assert verify_record(record, workers=2).ok  # forked workers, chunked batches


def test_empty_election_verifies() -> None:
    election = run_election(5, 2, "yesno,choose:3:2", workers=1, seed="empty", abstain=1.0)
    report = verify_record(election.record, workers=1)
    assert report.ok, report.to_text()
    assert election.record["ballots"] == []
    assert [r["counts"] for r in report.results] == [[0, 0], [0, 0, 0]]


def test_single_trustee_and_many_revotes() -> None:
    election = run_election(3, 1, "choose:2:0:2", revotes=6, workers=1, seed="revotes")
    report = verify_record(election.record, workers=1)
    assert report.ok, report.to_text()
    assert [r["counts"] for r in report.results] == election.expected_counts


def _voted(record: Record) -> list[int]:
    return [i for i, b in enumerate(record["ballots"]) if b["counted"]]


def _revoted_alias(record: Record) -> str:
    aliases = [b["alias"] for b in record["ballots"]]
    return next(a for a in aliases if aliases.count(a) > 1)


def change_result(r: Record) -> None:
    r["results"][0]["counts"][0] += 1
    r["results"][0]["counts"][1] -= 1


def alter_ciphertext(r: Record) -> None:
    choice = r["ballots"][0]["answers"][0]["choices"][0]
    choice["alpha"] = to_hex(int(choice["alpha"], 16) * int(g_pow(1)) % int(P))
    r["ballots"][0]["tracker"] = ballot_tracker(r["ballots"][0])  # hide it from check 6


def copy_to_other_voter(r: Record) -> None:
    # A ballot re-issued under another voter's alias (that voter abstained).
    idle = next(
        a for a in r["voter_roll"]["aliases"] if a not in {b["alias"] for b in r["ballots"]}
    )
    ballot = copy.deepcopy(r["ballots"][_voted(r)[0]])
    ballot["alias"] = idle
    ballot["tracker"] = ballot_tracker(ballot)
    ballot["cast_at"] = r["ballots"][-1]["cast_at"]
    r["ballots"].append(ballot)


def count_superseded(r: Record) -> None:
    alias = _revoted_alias(r)
    first = next(b for b in r["ballots"] if b["alias"] == alias)
    first["counted"] = True


def drop_ballot(r: Record) -> None:
    aliases = [b["alias"] for b in r["ballots"]]
    single = next(i for i, a in enumerate(aliases) if aliases.count(a) == 1)
    del r["ballots"][single]


def remove_roll_entry(r: Record) -> None:
    alias = r["ballots"][0]["alias"]
    r["voter_roll"]["aliases"].remove(alias)
    r["voter_roll"]["size"] -= 1


def forge_factor(r: Record) -> None:
    factor = r["decryptions"][1]["questions"][0]["choices"][0]
    factor["factor"] = to_hex(int(factor["factor"], 16) * int(g_pow(1)) % int(P))


def rename_election(r: Record) -> None:
    r["election"]["title"] = "Another election"


def rename_election_and_rehash(r: Record) -> None:
    r["election"]["title"] = "Another election"
    r["election_hash"] = election_hash(
        r["election"], r["group"], r["trustees"], r["joint_public_key"]
    )


def forge_tracker(r: Record) -> None:
    r["ballots"][2]["tracker"] = "f" * 64


def replace_trustee_key(r: Record) -> None:
    r["trustees"][0].update(generate_key().upload_json())  # valid key and proof, wrong election


def replace_trustee_key_only(r: Record) -> None:
    r["trustees"][0]["public_key"] = generate_key().upload_json()["public_key"]


def wrong_group(r: Record) -> None:
    r["group"]["g"] = to_hex(int(g_pow(2)))


def alter_tally(r: Record) -> None:
    r["encrypted_tally"][1]["choices"][0] = r["encrypted_tally"][1]["choices"][1]


def missing_decryption(r: Record) -> None:
    del r["decryptions"][2]


def cast_after_close(r: Record) -> None:
    r["ballots"][-1]["cast_at"] = "2099-01-01T00:00:00+09:00"


def out_of_order(r: Record) -> None:
    r["ballots"][0]["cast_at"], r["ballots"][1]["cast_at"] = (
        r["ballots"][1]["cast_at"],
        r["ballots"][0]["cast_at"],
    )


def duplicate_ballot(r: Record) -> None:
    r["ballots"].append(copy.deepcopy(r["ballots"][-1]))


TAMPERING: list[tuple[Callable[[Record], None], int]] = [
    (wrong_group, 1),
    (replace_trustee_key, 2),
    (replace_trustee_key_only, 2),
    (rename_election, 3),
    (rename_election_and_rehash, 5),
    (alter_ciphertext, 5),
    (copy_to_other_voter, 5),
    (forge_tracker, 6),
    (duplicate_ballot, 6),
    (count_superseded, 7),
    (remove_roll_entry, 7),
    (cast_after_close, 7),
    (out_of_order, 7),
    (drop_ballot, 8),
    (alter_tally, 8),
    (forge_factor, 9),
    (missing_decryption, 9),
    (change_result, 10),
]


@pytest.mark.parametrize(("tamper", "check"), TAMPERING, ids=[t.__name__ for t, _ in TAMPERING])
def test_tampering_is_named(record: Record, tamper: Callable[[Record], None], check: int) -> None:
    tamper(record)
    report = verify_record(record, workers=1)
    assert not report.ok
    assert check in report.failed_checks(), report.to_text()
    assert any(line.startswith(f"check {check} (") for line in report.to_text().splitlines())


def test_ciphertext_outside_subgroup_is_check_4(record: Record) -> None:
    record["ballots"][1]["answers"][1]["choices"][3]["beta"] = to_hex(int(P) - 1)
    record["ballots"][1]["tracker"] = ballot_tracker(record["ballots"][1])
    report = verify_record(record, workers=1)
    lines = [str(f) for f in report.failures if f.check == 4]
    tracker = record["ballots"][1]["tracker"][:12]
    assert lines == [
        f"check 4 (encryption) failed: ballot 1 (tracker {tracker}…), question q2, choice 3: "
        "beta not of order q"
    ]


def test_failure_names_ballot_question_choice(record: Record) -> None:
    alter_ciphertext(record)
    report = verify_record(record, workers=1)
    first = next(str(f) for f in report.failures if f.check == 5)
    tracker = record["ballots"][0]["tracker"]
    assert first.startswith(
        f"check 5 (range proofs) failed: ballot 0 (tracker {tracker[:12]}…), question q1, choice 0"
    )


def test_batch_failure_in_parallel_chunk_names_item() -> None:
    election = run_election(30, 2, "yesno", workers=1, seed="chunks")
    record = election.record
    alter_ciphertext_at(record, 23)
    report = verify_record(record, workers=2)
    assert {f.item.split(" (")[0] for f in report.failures if f.check == 5} == {"ballot 23"}


def alter_ciphertext_at(r: Record, index: int) -> None:
    choice = r["ballots"][index]["answers"][0]["choices"][1]
    choice["beta"] = to_hex(int(choice["beta"], 16) * int(g_pow(1)) % int(P))
    r["ballots"][index]["tracker"] = ballot_tracker(r["ballots"][index])


def test_malformed_records_do_not_crash(record: Record) -> None:
    assert verify_record([], workers=1).failed_checks() == [0]
    del record["results"]
    assert verify_record(record, workers=1).failed_checks() == [0]


def test_honest_record_has_no_secrets(honest_election: SimulatedElection) -> None:
    import json

    text = json.dumps(honest_election.record)
    assert "secret" not in text
    # No trustee secret exponent: the fixture's keys come from TestStream("fixture/key{i}").
    from voting.election.rng import TestStream

    for i in range(3):
        assert format(TestStream(f"fixture/key{i}").draw(), "x") not in text


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    voters=st.integers(0, 4),
    trustees=st.integers(1, 3),
    questions=st.lists(
        st.one_of(
            st.just("yesno"),
            st.integers(1, 3).flatmap(
                lambda n: st.integers(0, n).flatmap(
                    lambda hi: st.integers(0, hi).map(lambda lo: f"choose:{n}:{lo}:{hi}")
                )
            ),
        ),
        min_size=1,
        max_size=2,
    ),
    revotes=st.integers(0, 2),
    seed=st.text("abcdef0123", min_size=1, max_size=6),
)
def test_random_elections_verify(
    voters: int, trustees: int, questions: list[str], revotes: int, seed: str
) -> None:
    if voters == 0:
        revotes = 0
    election = run_election(voters, trustees, ",".join(questions), revotes, workers=1, seed=seed)
    report = verify_record(election.record, workers=1)
    assert report.ok, report.to_text()
    assert [r["counts"] for r in report.results] == election.expected_counts
