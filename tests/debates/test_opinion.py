"""Opinion groups (issue 6): clustering, consensus and divisive statements on constructed data.

Pure computation, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from debates.opinion import OpinionParameters, OpinionResult, compute_opinions


@dataclass
class Debate:
    p: np.ndarray
    s: np.ndarray
    v: np.ndarray
    shape: tuple[int, int]
    truth: np.ndarray  # true group per participant
    shared: np.ndarray  # statements everyone agrees with
    specific: np.ndarray  # statements owned by one group


def make_debate(
    n_groups: int,
    per_group: int = 60,
    own: int = 8,
    n_shared: int = 6,
    density: float = 0.7,
    noise: float = 0.1,
    seed: int = 1,
) -> Debate:
    """Each group agrees with its own statements and disagrees with the others' ones; everybody
    agrees with the shared statements. ``1 - density`` of the votes are missing, ``noise`` of the
    present votes are flipped to a random vote."""
    rng = np.random.default_rng(seed)
    n_p = n_groups * per_group
    n_s = n_groups * own + n_shared
    truth = np.repeat(np.arange(n_groups), per_group)
    owner = np.concatenate([np.repeat(np.arange(n_groups), own), np.full(n_shared, -1)])
    ideal = np.where(owner[None, :] == truth[:, None], 1, -1)
    ideal[:, owner == -1] = 1
    flip = rng.random((n_p, n_s)) < noise
    votes = np.where(flip, rng.integers(-1, 2, size=(n_p, n_s)), ideal)
    present = rng.random((n_p, n_s)) < density
    p, s = np.nonzero(present)
    return Debate(
        p=p,
        s=s,
        v=votes[p, s],
        shape=(n_p, n_s),
        truth=truth,
        shared=np.flatnonzero(owner == -1),
        specific=np.flatnonzero(owner >= 0),
    )


def run(d: Debate, **kw: object) -> OpinionResult:
    return compute_opinions(d.p, d.s, d.v, d.shape, OpinionParameters(**kw))


@pytest.mark.parametrize("n_groups", [2, 3, 4])
def test_recovers_known_groups(n_groups: int) -> None:
    d = make_debate(n_groups, seed=10 + n_groups)
    r = run(d)
    assert r.k == n_groups, r.silhouette_by_k
    assert (r.labels >= 0).all()
    assert adjusted_rand_score(d.truth, r.labels) >= 0.9
    assert set(r.silhouette_by_k) == set(range(2, 7))
    assert max(r.silhouette_by_k, key=lambda k: r.silhouette_by_k[k]) == n_groups
    assert sum(g.size for g in r.groups) == d.shape[0]
    assert [g.size for g in r.groups] == sorted((g.size for g in r.groups), reverse=True)
    assert r.coords.shape == (d.shape[0], 2)
    assert np.isfinite(r.coords).all()

    # Shared statements rank top in group-informed consensus and make up the consensus list.
    top = np.argsort(-r.consensus_scores, kind="stable")[: len(d.shared)]
    assert set(top.tolist()) == set(d.shared.tolist())
    assert set(r.consensus) == set(d.shared.tolist())
    # They are also majority statements; group-specific ones are not (each group is a minority).
    assert set(d.shared.tolist()) <= set(r.majority)
    assert not set(r.majority) & set(d.specific.tolist())
    # Divisive statements are the group-specific ones.
    assert r.divisive
    assert set(r.divisive) <= set(d.specific.tolist())
    assert r.divisive_spread[d.specific].min() > r.divisive_spread[d.shared].max()

    # Representative statements: each group's own statements (agree) or others' (disagree).
    owner = {int(j): int(j) // 8 for j in d.specific}
    for g in r.groups:
        assert g.representative
        members = d.truth[r.labels == g.group]
        true_g = int(np.bincount(members).argmax())
        for rep in g.representative:
            assert rep.statement in owner
            assert (owner[rep.statement] == true_g) == (rep.direction == "agree")
            assert rep.z >= 1.2816
            assert rep.agrees + rep.disagrees + rep.passes <= g.size


def test_determinism() -> None:
    d = make_debate(3, seed=5)
    a, b = run(d, seed=42), run(d, seed=42)
    np.testing.assert_array_equal(a.coords, b.coords)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.consensus_scores, b.consensus_scores)
    assert a.silhouette_by_k == b.silhouette_by_k
    assert a.groups == b.groups
    assert (a.consensus, a.majority, a.divisive) == (b.consensus, b.majority, b.divisive)
    assert a.parameters == b.parameters
    assert a.parameters["seed"] == 42
    assert {"numpy", "scipy", "scikit-learn"} <= set(a.parameters["versions"])


def test_randomized_svd_path_and_large_silhouette_sample() -> None:
    # Big enough for randomized SVD and the silhouette sample; still recovers the groups.
    d = make_debate(3, per_group=1200, own=30, n_shared=10, density=0.3, noise=0.15, seed=3)
    r = run(d)
    assert r.parameters["svd"] == "sklearn randomized_svd"
    assert r.k == 3
    assert adjusted_rand_score(d.truth[r.labels >= 0], r.labels[r.labels >= 0]) >= 0.9


def test_participants_with_few_votes_are_not_clustered() -> None:
    d = make_debate(2, seed=2)
    # Participant 0 keeps only three votes (< 7).
    mask = (d.p != 0) | (np.cumsum(d.p == 0) <= 3)
    r = compute_opinions(d.p[mask], d.s[mask], d.v[mask], d.shape)
    assert r.labels[0] == -1
    assert (r.labels[1:] >= 0).all()
    assert np.isfinite(r.coords[0]).all()


def test_no_votes() -> None:
    r = compute_opinions([], [], [], (5, 4))
    assert r.k == 0
    assert (r.labels == -1).all()
    assert r.coords.shape == (5, 2)
    assert r.groups == () and r.consensus == () and r.majority == () and r.divisive == ()


def test_empty_shape() -> None:
    r = compute_opinions([], [], [], (0, 0))
    assert r.k == 0 and r.labels.shape == (0,) and r.coords.shape == (0, 2)


def test_one_participant() -> None:
    r = compute_opinions([0] * 10, list(range(10)), [1, -1] * 5, (1, 10))
    assert r.k == 1
    assert r.labels.tolist() == [0]
    assert r.groups[0].size == 1
    assert r.majority == (0, 2, 4, 6, 8)


def test_everyone_identical() -> None:
    n_p, n_s = 30, 12
    p, s = np.divmod(np.arange(n_p * n_s), n_s)
    v = np.where(s % 3 == 0, -1, 1)
    r = compute_opinions(p, s, v, (n_p, n_s))
    assert r.k == 1
    assert (r.labels == 0).all()
    assert r.divisive == ()
    # One group: consensus = statements the group agrees with (at most n_consensus of them).
    assert set(r.consensus) == {j for j in range(n_s) if j % 3 != 0}


def test_passes_count_as_votes() -> None:
    r = compute_opinions([0, 0, 1], [0, 1, 0], [0, 0, 1], (2, 2))
    assert r.agree_rate.tolist() == [0.5, 0.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0, 1], [0], [1], (2, 2)), "same length"),
        (([0], [0], [2], (2, 2)), "votes must be -1"),
        (([0], [0], [0.5], (2, 2)), "integers"),
        (([2], [0], [1], (2, 2)), "participant_idx out of range"),
        (([0], [5], [1], (2, 2)), "statement_idx out of range"),
        (([0, 0], [1, 1], [1, -1], (2, 2)), "duplicate"),
        (([0], [0], [1], (2,)), "shape"),
        (([[0]], [0], [1], (2, 2)), "one-dimensional"),
    ],
)
def test_bad_input(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_opinions(*args)


def test_result_arrays_are_read_only() -> None:
    r = run(make_debate(2, seed=9))
    with pytest.raises(ValueError):
        r.labels[0] = 3
