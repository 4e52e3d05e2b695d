"""The trustee tool end to end, as a trustee would run it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from voting.election.ballot import encrypt_ballot
from voting.election.decryption import combine
from voting.election.model import ElectionContext
from voting.election.record import (
    ballot_entry,
    build_record,
    election_header,
    mark_counted,
    trustee_request,
)
from voting.election.tally import tally, tally_to_json
from voting.election.verifier import verify_record

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    {
        "id": "q1",
        "text": "?",
        "min_selections": 1,
        "max_selections": 1,
        "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}],
    },
]
ELECTION = {
    "id": "6f1c2d1e-0000-4000-8000-000000000001",
    "municipality": "test-town",
    "title": "Test",
    "opens_at": "2026-01-10T09:00:00+09:00",
    "closes_at": "2026-01-11T09:00:00+09:00",
    "questions": QUESTIONS,
}


def trustee(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voting.trustee", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        timeout=60,
    )


def keygen(path: Path, *extra: str) -> dict[str, Any]:
    done = trustee("keygen", "--out", str(path), *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_full_ceremony(tmp_path: Path) -> None:
    phrase = tmp_path / "phrase.txt"
    phrase.write_text("correct horse battery staple\n")
    uploads = [
        keygen(tmp_path / "k1.json"),
        keygen(tmp_path / "k2.json", "--passphrase-file", str(phrase)),
    ]
    for i, up in enumerate(uploads):
        assert set(up) == {"public_key", "pok"} and set(up["pok"]) == {
            "commitment",
            "challenge",
            "response",
        }
        key_file = tmp_path / f"k{i + 1}.json"
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    plain = json.loads((tmp_path / "k1.json").read_text())
    assert plain["secret_key"] not in json.dumps(uploads)  # only the public half is printed
    sealed = json.loads((tmp_path / "k2.json").read_text())
    assert "secret_key" not in sealed and "sealed_secret_key" in sealed

    header = election_header(ELECTION, [{"id": f"t{i + 1}", **u} for i, u in enumerate(uploads)])
    ctx = ElectionContext.from_record(header)
    ballots = [
        ballot_entry(encrypt_ballot(ctx, alias, {"q1": [vote]}), f"2026-01-10T10:00:0{i}+09:00")
        for i, (alias, vote) in enumerate([("a1", "yes"), ("a2", "no"), ("a1", "no"), ("a3", "no")])
    ]
    mark_counted(ballots)
    enc = tally_to_json(ctx.questions, tally(ctx.questions, [b for b in ballots if b["counted"]]))

    entries = []
    for i in (1, 2):
        request = tmp_path / f"tally{i}.json"
        request.write_text(json.dumps(trustee_request(header, enc, f"t{i}")))
        args = [
            "decrypt",
            "--key",
            str(tmp_path / f"k{i}.json"),
            "--tally",
            str(request),
            "--out",
            str(tmp_path / f"f{i}.json"),
        ]
        if i == 2:
            args += ["--passphrase-file", str(phrase)]
        done = trustee(*args)
        assert done.returncode == 0, done.stderr
        entries.append(json.loads((tmp_path / f"f{i}.json").read_text()))
    assert [e["trustee"] for e in entries] == ["t1", "t2"]

    from voting.election.tally import tally_from_json

    factors = [
        [[int(c["factor"], 16) for c in q["choices"]] for q in e["questions"]] for e in entries
    ]
    counts = combine(tally_from_json(ctx.questions, enc), factors, 3)
    assert counts == [[0, 3]]
    record = build_record(
        header, ["a1", "a2", "a3"], ballots, enc, entries, [{"question": "q1", "counts": [0, 3]}]
    )
    assert verify_record(record, workers=1).ok
    for path in tmp_path.glob("f*.json"):
        text = path.read_text()
        assert "secret" not in text


@pytest.fixture
def one_key(tmp_path: Path) -> tuple[Path, Path]:
    up = keygen(tmp_path / "k.json")
    header = election_header(ELECTION, [{"id": "t1", **up}])
    ctx = ElectionContext.from_record(header)
    enc = tally_to_json(ctx.questions, tally(ctx.questions, []))
    request = tmp_path / "tally.json"
    request.write_text(json.dumps(trustee_request(header, enc, "t1")))
    return tmp_path / "k.json", request


def test_wrong_election_hash_refused(one_key: tuple[Path, Path], tmp_path: Path) -> None:
    key, request = one_key
    data = json.loads(request.read_text())
    data["election"]["title"] = "Switched"
    request.write_text(json.dumps(data))
    done = trustee(
        "decrypt", "--key", str(key), "--tally", str(request), "--out", str(tmp_path / "f.json")
    )
    assert done.returncode == 1
    assert "election hash does not recompute" in done.stderr
    assert not (tmp_path / "f.json").exists()


def test_foreign_key_refused(one_key: tuple[Path, Path], tmp_path: Path) -> None:
    _, request = one_key
    keygen(tmp_path / "other.json")
    done = trustee(
        "decrypt",
        "--key",
        str(tmp_path / "other.json"),
        "--tally",
        str(request),
        "--out",
        str(tmp_path / "f.json"),
    )
    assert done.returncode == 1 and "not among the election's trustees" in done.stderr


def test_wrong_passphrase_refused(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("open sesame\n")
    bad.write_text("open sesame!\n")
    up = keygen(tmp_path / "k.json", "--passphrase-file", str(good))
    header = election_header(ELECTION, [{"id": "t1", **up}])
    ctx = ElectionContext.from_record(header)
    request = tmp_path / "tally.json"
    request.write_text(
        json.dumps(
            trustee_request(header, tally_to_json(ctx.questions, tally(ctx.questions, [])), "t1")
        )
    )
    base = ["decrypt", "--key", str(tmp_path / "k.json"), "--tally", str(request)]
    done = trustee(*base, "--out", str(tmp_path / "f.json"), "--passphrase-file", str(bad))
    assert done.returncode == 1 and "wrong passphrase" in done.stderr
    assert "open sesame" not in done.stderr + done.stdout
    done = trustee(*base, "--out", str(tmp_path / "f.json"), "--passphrase-file", str(good))
    assert done.returncode == 0, done.stderr


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    keygen(tmp_path / "k.json")
    before = (tmp_path / "k.json").read_text()
    done = trustee("keygen", "--out", str(tmp_path / "k.json"))
    assert done.returncode == 1 and (tmp_path / "k.json").read_text() == before
