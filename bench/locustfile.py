"""The mixed load of `bench/load.py` (run through `locust --headless`, never on its own).

One kind of user, whose requests are 70 % browsing (public pages and API reads), 15 % signing,
10 % debate votes and 5 % casting, each user at `MEBUKU_LOAD_RATE` requests per second. Every
sign, debate vote and cast is a different person's first act of that kind (the jobs that
bench/load.py wrote to `MEBUKU_LOAD_JOBS`); a user that finds a kind's jobs used up browses
instead and counts it under "jobs used up".
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from locust import HttpUser, constant_throughput, events, task

JOBS: dict[str, Any] = json.loads(Path(os.environ["MEBUKU_LOAD_JOBS"]).read_text())
RATE = float(os.environ.get("MEBUKU_LOAD_RATE", "2"))
API = f"/api/v1/municipalities/{JOBS['slug']}"

_browse = itertools.cycle(JOBS["browse"])
_sign = iter(JOBS["sign"])
_debate = iter(JOBS["debate"])
_cast = iter(JOBS["cast"])


class Resident(HttpUser):
    wait_time = constant_throughput(RATE)

    @task(70)
    def browse(self) -> None:
        name, url = next(_browse)
        self.client.get(url, name=name)

    @task(15)
    def sign(self) -> None:
        job = next(_sign, None)
        if job is None:
            return self._used_up("sign")
        token, proposal_id = job
        self.client.post(
            f"{API}/proposals/{proposal_id}/signature",
            headers={"X-Session-Token": token},
            name="POST sign (API)",
        )

    @task(10)
    def debate_vote(self) -> None:
        job = next(_debate, None)
        if job is None:
            return self._used_up("debate vote")
        token, statement_id, value = job
        self.client.post(
            f"{API}/debates/{JOBS['debate_id']}/statements/{statement_id}/vote",
            json={"value": value},
            headers={"X-Session-Token": token},
            name="POST debate vote (API)",
        )

    @task(5)
    def cast(self) -> None:
        job = next(_cast, None)
        if job is None:
            return self._used_up("cast")
        token, body = job
        self.client.post(
            f"{API}/elections/{JOBS['election_id']}/ballots",
            data=body,
            headers={"X-Session-Token": token, "Content-Type": "application/json"},
            name="POST ballot (API)",
        )

    def _used_up(self, kind: str) -> None:
        events.request.fire(
            request_type="SKIP",
            name=f"jobs used up: {kind}",
            response_time=0,
            response_length=0,
            exception=None,
            context={},
        )
        self.browse()
