"""Opinion groups, recomputed off the request and debounced.

Every vote marks its debate dirty (`Debate.opinions_dirty_since`, set only when not set) and
writes an outbox message whose delivery, after commit, calls :func:`opinions_schedule`: the first
caller in a window (a cache key added with ``cache.add``) queues ``tasks.opinions_recompute`` with
a countdown of ``settings.DEBATES_OPINIONS_DEBOUNCE_SECONDS``. The task clears the key, then
*claims* the dirty flag (``UPDATE … SET opinions_dirty_since = NULL WHERE … IS NOT NULL``): only
the claimer computes, so a burst of votes gives one computation, and no vote committed before the
claim is left out (a vote after it marks the debate dirty again). A beat task re-queues debates
left dirty longer than a few windows (a lost task or an evicted cache key).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from debates import events
from debates.models import Debate, OpinionSnapshot, Participant, Statement, StatementStatus, Vote
from debates.opinion import OpinionParameters, OpinionResult, compute_opinions


def _pending_key(debate_id: int) -> str:
    return f"debates:opinions-pending:{debate_id}"


def debounce_seconds() -> float:
    return float(getattr(settings, "DEBATES_OPINIONS_DEBOUNCE_SECONDS", 10.0))


def opinions_schedule(debate_id: int) -> bool:
    """Queue one recomputation for the debate unless one is pending. Returns whether it queued."""
    from debates.tasks import opinions_recompute

    seconds = debounce_seconds()
    if not cache.add(_pending_key(debate_id), 1, timeout=int(seconds * 6) + 1):
        return False  # one is pending (an unreachable cache adds: config.cache)
    try:
        opinions_recompute.apply_async((debate_id,), countdown=seconds)
    except Exception:
        cache.delete(_pending_key(debate_id))  # not queued: the outbox's retry queues it
        raise
    return True


@contextmanager
def opinions_deferred(debate_id: int) -> Iterator[None]:
    """For bulk writes (imports, the demo): votes inside schedule nothing; one computation runs
    at the end (here, synchronously)."""
    cache.set(_pending_key(debate_id), 1, timeout=3600)
    try:
        yield
    finally:
        opinions_recompute_claimed(debate_id)


def _claim(debate_id: int) -> bool:
    with transaction.atomic(durable=True):
        return bool(
            Debate.objects.filter(pk=debate_id, opinions_dirty_since__isnull=False).update(
                opinions_dirty_since=None
            )
        )


def opinions_recompute_claimed(debate_id: int) -> OpinionSnapshot | None:
    """The task's body: compute and store a snapshot if the debate is dirty (else do nothing)."""
    cache.delete(_pending_key(debate_id))
    if not _claim(debate_id):
        return None
    return opinions_compute(debate_id)


def opinions_recompute_stale() -> int:
    """Beat safety net: queue debates dirty for longer than a few debounce windows."""
    before = timezone.now() - timedelta(seconds=debounce_seconds() * 3)
    ids = list(
        Debate.objects.filter(opinions_dirty_since__lt=before).values_list("pk", flat=True)[:100]
    )
    for debate_id in ids:
        cache.delete(_pending_key(debate_id))
        opinions_schedule(debate_id)
    return len(ids)


def _rounded(values: np.ndarray, digits: int = 4) -> list[float]:
    return [round(float(x), digits) for x in values]


def snapshot_result(
    result: OpinionResult,
    tokens: list[str],
    statement_ids: list[int],
    pi: np.ndarray,
    si: np.ndarray,
    v: np.ndarray,
) -> dict[str, object]:
    """The JSON the report reads (shape documented on `OpinionSnapshot`)."""
    k = result.k
    labels = result.labels
    group_of_vote = labels[pi] if pi.size else np.zeros(0, dtype=np.int64)
    counts = np.zeros((k, len(statement_ids), 3), dtype=np.int64)  # agree, disagree, pass
    for column, wanted in enumerate((1, -1, 0)):
        mask = (v == wanted) & (group_of_vote >= 0)
        np.add.at(counts, (group_of_vote[mask], si[mask], column), 1)
    statements: dict[str, object] = {}
    for j, statement_id in enumerate(statement_ids):
        statements[str(statement_id)] = {
            "agree_rate": round(float(result.agree_rate[j]), 4),
            "consensus": round(float(result.consensus_scores[j]), 4),
            "spread": round(float(result.divisive_spread[j]), 4),
            "groups": [[int(x) for x in counts[g, j]] for g in range(k)],
        }
    return {
        "k": k,
        "points": [
            [
                tokens[i],
                round(float(result.coords[i, 0]), 4),
                round(float(result.coords[i, 1]), 4),
                int(labels[i]),
            ]
            for i in range(result.n_participants)
        ],
        "groups": [
            {
                "group": g.group,
                "size": g.size,
                "representative": [
                    {
                        "statement": statement_ids[r.statement],
                        "direction": r.direction,
                        "z": round(r.z, 4),
                        "rate_in_group": round(r.rate_in_group, 4),
                        "rate_rest": round(r.rate_rest, 4),
                        "agrees": r.agrees,
                        "disagrees": r.disagrees,
                        "passes": r.passes,
                    }
                    for r in g.representative
                ],
            }
            for g in result.groups
        ],
        "statements": statements,
        "consensus": [statement_ids[j] for j in result.consensus],
        "majority": [statement_ids[j] for j in result.majority],
        "divisive": [statement_ids[j] for j in result.divisive],
        "silhouette_by_k": {str(key): round(val, 4) for key, val in result.silhouette_by_k.items()},
        "explained_variance_ratio": _rounded(result.explained_variance_ratio),
    }


def opinions_compute(
    debate_id: int, params: OpinionParameters | None = None
) -> OpinionSnapshot | None:
    """Load the published statements' votes, compute the groups and store a snapshot. Rows are
    ordered by id, so the same votes always give the same matrix (and the same groups)."""
    if not Debate.objects.filter(pk=debate_id).exists():
        return None
    statement_ids = list(
        Statement.objects.filter(debate_id=debate_id, status=StatementStatus.PUBLISHED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    column = {sid: j for j, sid in enumerate(statement_ids)}
    rows = (
        Vote.objects.filter(
            statement__debate_id=debate_id, statement__status=StatementStatus.PUBLISHED
        )
        .order_by("participant_id", "statement_id")
        .values_list("participant_id", "statement_id", "value")
    )
    # Compact arrays (8 + 8 + 1 bytes a vote), not lists of Python ints: 3 M votes stay ~50 MB.
    participant_row: dict[int, int] = {}
    p_arr, s_arr, v_arr = array("q"), array("q"), array("b")
    for participant_id, statement_id, value in rows.iterator(chunk_size=20_000):
        j = column.get(statement_id)
        if j is None:  # published after the statement list was read: the next run has it
            continue
        p_arr.append(participant_row.setdefault(participant_id, len(participant_row)))
        s_arr.append(j)
        v_arr.append(value)
    tokens_by_id = dict(Participant.objects.filter(debate_id=debate_id).values_list("pk", "token"))
    tokens = [tokens_by_id[pid] for pid in participant_row]
    pi = np.frombuffer(p_arr, dtype=np.int64) if p_arr else np.zeros(0, dtype=np.int64)
    si = np.frombuffer(s_arr, dtype=np.int64) if s_arr else np.zeros(0, dtype=np.int64)
    v = np.frombuffer(v_arr, dtype=np.int8) if v_arr else np.zeros(0, dtype=np.int8)
    result = compute_opinions(pi, si, v, (len(tokens), len(statement_ids)), params)
    snapshot = OpinionSnapshot.objects.create(
        debate_id=debate_id,
        computed_at=timezone.now(),
        participant_count=len(tokens),
        statement_count=len(statement_ids),
        vote_count=int(v.size),
        group_count=result.k,
        parameters=result.parameters,
        result=snapshot_result(result, tokens, statement_ids, pi, si, v),
    )
    events.publish(debate_id, "opinions_updated", {"id": snapshot.pk})
    return snapshot
