"""`python -m voting.verify` output, exit codes and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )


def write(tmp_path: Path, record: dict[str, Any]) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    return path


def test_verified_output(tmp_path: Path, record: dict[str, Any]) -> None:
    done = run("-m", "voting.verify", str(write(tmp_path, record)))
    assert done.returncode == 0, done.stdout
    assert "VERIFIED" in done.stdout and "counted ballots: 7 (of 11 cast)" in done.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal


def test_failure_output_and_json(tmp_path: Path, record: dict[str, Any]) -> None:
    record["results"][1]["counts"][0] += 1
    path = write(tmp_path, record)
    done = run("-m", "voting.verify", str(path))
    assert done.returncode == 1
    assert "check 10 (results) failed: results: published counts differ" in done.stdout
    done = run("-m", "voting.verify", "--json", str(path))
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["ok"] is False
    assert [c["ok"] for c in report["checks"]] == [True] * 9 + [False]
    assert report["failures"][0]["check"] == 10


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    assert run("-m", "voting.verify", str(tmp_path / "x.json")).returncode == 2


def test_verifier_imports_only_stdlib_and_gmpy2(tmp_path: Path, record: dict[str, Any]) -> None:
    path = write(tmp_path, record)
    code = (
        "import sys\n"
        "before = set(sys.modules)  # interpreter start-up (.pth hooks) is not ours\n"
        "import runpy\n"
        f"sys.argv = ['verify', {str(path)!r}, '--workers', '1']\n"
        "try:\n    runpy.run_module('voting.verify', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "import sysconfig, os\n"
        "std = sysconfig.get_paths()['stdlib']\n"
        "bad = sorted(n for n, m in sys.modules.items() if n not in before\n"
        "    and getattr(m, '__file__', None)\n"
        "    and not n.startswith(('voting', 'gmpy2'))\n"
        "    and not os.path.realpath(m.__file__).startswith(os.path.realpath(std)))\n"
        "print('BAD', bad)\n"
        "print('DJANGO', any(n.startswith('django') for n in sys.modules))\n"
        "print('CRYPTO', any(n.startswith('cryptography') for n in sys.modules))\n"
    )
    done = run("-c", code)
    assert done.returncode == 0, done.stderr
    assert (
        "BAD []" in done.stdout and "DJANGO False" in done.stdout and "CRYPTO False" in done.stdout
    )


def test_simulate_cli_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "sim.json"
    done = run(
        "-m",
        "voting.simulate",
        "--voters",
        "6",
        "--trustees",
        "2",
        "--questions",
        "yesno,choose:4:2",
        "--revotes",
        "2",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert len(record["ballots"]) == 8 and len(record["trustees"]) == 2
    assert run("-m", "voting.verify", str(out)).returncode == 0
    assert "choose:N:K" in run("-m", "voting.simulate", "--help").stdout
