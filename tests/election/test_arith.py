"""gmpy2 and plain Python give identical results, and the verifier runs on either."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from voting.election import arith
from voting.election.fixed_base import FixedBase, table_check
from voting.election.group import G, P, Q
from voting.election.multiexp import multi_exp

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = arith.available_backends()


def test_both_backends_present() -> None:
    names = [b.name for b in BACKENDS]
    assert names == ["python", "gmpy2"], "install gmpy2 in the venv to test both paths"


def test_backends_agree() -> None:
    rnd = random.Random(7)
    p, q = int(P), int(Q)
    for _ in range(25):
        base, exp = rnd.randrange(1, p), rnd.randrange(q)
        results = {int(b.powmod(b.num(base), b.num(exp), b.num(p))) for b in BACKENDS}
        assert len(results) == 1
        inverses = {int(b.invert(b.num(base), b.num(p))) for b in BACKENDS}
        assert len(inverses) == 1 and inverses.pop() * base % p == 1
        assert len({b.jacobi(b.num(base), b.num(p)) for b in BACKENDS}) == 1
    for n in [*range(2, 400), p, q, p + 2, q * 3, 561, 1105, 2**61 - 1]:
        assert len({b.is_prime(b.num(n)) for b in BACKENDS}) == 1, n


def test_fixed_base_and_multiexp_match_powmod() -> None:
    rnd = random.Random(11)
    table = FixedBase(G)
    for exp in (0, 1, int(Q) - 1, int(Q), int(Q) + 5, *[rnd.randrange(int(Q)) for _ in range(10)]):
        assert table_check(table, exp)
    for n in (1, 3, 20, 400):  # Straus and Pippenger
        bases = [arith.powmod(G, rnd.randrange(int(Q)), P) for _ in range(n)]
        exps = [rnd.getrandbits(rnd.choice((8, 128, 256))) for _ in range(n)]
        expected = 1
        for b, e in zip(bases, exps, strict=True):
            expected = expected * int(arith.powmod(b, e, P)) % int(P)
        assert int(multi_exp(bases, exps, P)) == expected


def test_pure_python_path_verifies_a_record(tmp_path: Path) -> None:
    env = {**os.environ, "MEBUKU_PURE_PYTHON": "1"}
    out = tmp_path / "r.json"
    code = (
        "import json,sys\n"
        "from voting.election import arith\n"
        "from voting.simulate import simulate_election\n"
        "from voting.election.verifier import verify_record\n"
        "assert arith.BACKEND_NAME == 'python' and 'gmpy2' not in sys.modules\n"
        "r = simulate_election(3, 2, 'yesno', 1, workers=1, seed='pure')\n"
        f"json.dump(r, open({str(out)!r}, 'w'))\n"
        "rep = verify_record(r, workers=1)\n"
        "print(rep.ok, rep.results)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True")
    # The same seeded election made with gmpy2 is byte-identical.
    from voting.simulate import simulate_election

    assert out.read_text() == __import__("json").dumps(
        simulate_election(3, 2, "yesno", 1, workers=1, seed="pure")
    )


@pytest.mark.parametrize("bad", ["", "0x1f", "01", "ABC", "-1", " 1", "1g"])
def test_hex_strictness(bad: str) -> None:
    from voting.election.encoding import FormatError, from_hex

    with pytest.raises(FormatError):
        from_hex(bad)
