"""Opinion groups for the converge phase: pure computation, no Django (issue 6).

A Celery task (debounced, never a request) loads the votes of one debate as COO-style arrays
``(participant_idx, statement_idx, vote)`` plus the matrix shape and calls :func:`compute_opinions`.
Votes are agree ``+1``, disagree ``-1`` and pass ``0``; a pass is a vote (it counts as "seen") while
a missing entry is not. The result is a frozen :class:`OpinionResult` that a report can print.

Method (after Polis' published method, with the known problems fixed):

1. **Eligibility.** Only participants with at least ``min_votes`` votes (passes included, default 7)
   are clustered; everyone else gets label ``-1`` but still gets coordinates.
2. **PCA with missing votes.** Column means ``mu_j`` are the mean vote on statement ``j`` over the
   eligible participants who voted on it. A missing vote is imputed with the column mean, so after
   centring it is exactly ``0``: the centred matrix ``C = X - M * mu`` (``M`` the voted
   mask) has the same sparsity as the votes and is never densified (tens of MB for
   10,000 x 1,000 at 30 %). The top ``cluster_components`` right singular vectors of ``C``
   (eligible rows) come from scikit-learn's randomized SVD with a fixed ``random_state`` and
   sign flipping (dense LAPACK SVD when the matrix is small), which is deterministic.
3. **Sparsity-aware scaling.** Each participant's projection ``C_i V^T`` is multiplied by
   ``sqrt(n_statements / n_votes_i)`` so that people who voted little are not pulled to the centre.
   The first two components are the 2-D ``coords``.
4. **Clustering.** Polis clusters in the 2-D projection; a regular simplex of k >= 4 equal groups
   does not fit in a plane (two groups can land on top of each other), so we cluster in the first
   ``cluster_components`` (default ``max_k - 1`` = 5) scaled components and keep 2-D for display.
   First k-means into ``n_base_clusters`` (default 100) base clusters (``KMeans``, fixed seed,
   ``n_init`` restarts), then weighted k-means on the base-cluster centroids for every
   k = 2 ... ``max_k`` (not capped at five); each candidate is mapped back to participants and
   scored by the silhouette on a deterministic sample of at most ``silhouette_sample`` eligible
   participants. The best silhouette wins (ties: the smaller k). Groups are renumbered by size
   (descending), then by their lowest participant index, so labels are stable.
   Degenerate inputs (fewer than two distinct points) give a single group, k = 1; no eligible
   participant gives k = 0 and no groups.
5. **Representative statements** per group: two-proportion z-test of the agree rate (and of the
   disagree rate) inside the group against all other clustered participants, with Laplace-smoothed
   rates ``(a + 1) / (n + 2)`` where ``n`` counts every vote including passes. A statement is
   representative when ``z >= z_threshold`` (1.2816, one-sided 90 % as in Polis) and the group's own
   rate in that direction exceeds one half; the top ``n_representative`` by z are kept, with the
   group's agree/disagree/pass counts.
6. **Group-informed consensus** per statement: ``prod_g (agrees_g + 1) / (votes_g + 2)`` over the
   groups. The consensus list holds the statements that every group tends to agree with (every
   group's smoothed agree rate > ``consensus_min_agree``), best first, at most ``n_consensus``.
7. **Majority** statements: overall agree >= ``majority_threshold`` (60 %) of all votes on the
   statement (all participants, passes counted as votes), at least ``min_statement_votes`` votes.
8. **Divisive** statements: spread = max - min over groups of the smoothed agree rate; the list
   holds statements with spread >= ``divisive_min_spread``, largest first, at most ``n_divisive``.

Determinism: identical input and seed give identical output (same machine and library versions);
every constant, the seed and the library versions are returned in ``OpinionResult.parameters``.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from numpy.typing import ArrayLike, NDArray
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils.extmath import randomized_svd, svd_flip

__all__ = [
    "GroupSummary",
    "OpinionParameters",
    "OpinionResult",
    "RepresentativeStatement",
    "compute_opinions",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Below this many matrix cells the exact dense SVD is used (cheap, and randomized SVD needs
# more columns than components + oversamples to be meaningful).
_DENSE_SVD_MAX_CELLS = 250_000


@dataclass(frozen=True)
class OpinionParameters:
    """Every tunable constant of the computation (all have Polis-like defaults)."""

    seed: int = 0
    min_votes: int = 7
    max_k: int = 6
    cluster_components: int | None = None  # None: max_k - 1 (at least 2)
    n_base_clusters: int = 100
    n_init_base: int = 3
    n_init_groups: int = 10
    silhouette_sample: int = 3000
    svd_oversamples: int = 10
    svd_n_iter: int = 7
    z_threshold: float = 1.2816
    n_representative: int = 5
    consensus_min_agree: float = 0.5
    n_consensus: int = 10
    majority_threshold: float = 0.6
    min_statement_votes: int = 1
    divisive_min_spread: float = 0.3
    n_divisive: int = 10

    def components(self) -> int:
        if self.cluster_components is not None:
            return max(2, self.cluster_components)
        return max(2, self.max_k - 1)

    def validate(self) -> None:
        if self.min_votes < 0:
            raise ValueError("min_votes must be >= 0")
        if self.max_k < 2:
            raise ValueError("max_k must be >= 2")
        if self.n_base_clusters < 2:
            raise ValueError("n_base_clusters must be >= 2")
        if self.silhouette_sample < 10:
            raise ValueError("silhouette_sample must be >= 10")


@dataclass(frozen=True)
class RepresentativeStatement:
    statement: int
    direction: str  # "agree" or "disagree"
    z: float
    rate_in_group: float  # smoothed rate in `direction` inside the group
    rate_rest: float  # same rate among the other clustered participants
    agrees: int
    disagrees: int
    passes: int


@dataclass(frozen=True)
class GroupSummary:
    group: int
    size: int
    representative: tuple[RepresentativeStatement, ...]


@dataclass(frozen=True, eq=False)
class OpinionResult:
    """Output of :func:`compute_opinions`. Arrays are read-only.

    ``labels[i]`` is the group of participant ``i`` or ``-1`` when not clustered (too few votes).
    Per-statement arrays have length ``n_statements``; per-group arrays have ``k`` rows.
    """

    n_participants: int
    n_statements: int
    coords: FloatArray  # (n_participants, 2)
    labels: IntArray  # (n_participants,)
    k: int
    silhouette_by_k: dict[int, float]
    groups: tuple[GroupSummary, ...]
    group_agree_rate: FloatArray  # (k, n_statements), smoothed (a + 1) / (n + 2)
    consensus_scores: FloatArray  # (n_statements,) group-informed consensus
    consensus: tuple[int, ...]
    agree_rate: FloatArray  # (n_statements,) overall agrees / votes (0 when no votes)
    majority: tuple[int, ...]
    divisive_spread: FloatArray  # (n_statements,) max - min group agree rate (0 when k < 2)
    divisive: tuple[int, ...]
    explained_variance_ratio: FloatArray  # of the clustering components
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def clustered(self) -> NDArray[np.bool_]:
        return self.labels >= 0


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


def _validate(
    participant_idx: ArrayLike,
    statement_idx: ArrayLike,
    vote: ArrayLike,
    shape: tuple[int, int],
) -> tuple[IntArray, IntArray, NDArray[np.int8], int, int]:
    try:
        n_p, n_s = (int(shape[0]), int(shape[1]))
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"shape must be (n_participants, n_statements), got {shape!r}") from exc
    if len(shape) != 2 or n_p < 0 or n_s < 0:
        raise ValueError(f"shape must be two non-negative integers, got {shape!r}")
    arrays = []
    for name, raw in (
        ("participant_idx", participant_idx),
        ("statement_idx", statement_idx),
        ("vote", vote),
    ):
        a = np.asarray(raw)
        if a.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
        if a.size and not (
            np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)
        ):
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
        if a.size and np.issubdtype(a.dtype, np.floating) and not np.all(a == np.round(a)):
            raise ValueError(f"{name} must hold integers")
        arrays.append(a)
    p, s, v = arrays
    if not (p.size == s.size == v.size):
        raise ValueError(
            "participant_idx, statement_idx and vote must have the same length, got "
            f"{p.size}, {s.size} and {v.size}"
        )
    pi = p.astype(np.int64)
    si = s.astype(np.int64)
    if pi.size:
        if pi.min() < 0 or pi.max() >= n_p:
            raise ValueError(f"participant_idx out of range for shape {n_p} x {n_s}")
        if si.min() < 0 or si.max() >= n_s:
            raise ValueError(f"statement_idx out of range for shape {n_p} x {n_s}")
        bad = (v != -1) & (v != 0) & (v != 1)
        if bad.any():
            raise ValueError(
                f"votes must be -1 (disagree), 0 (pass) or 1 (agree); got {v[bad][0]!r} "
                f"at position {int(np.flatnonzero(bad)[0])}"
            )
        linear = pi * n_s + si
        order = np.argsort(linear, kind="stable")
        linear = linear[order]
        if linear.size > 1 and not np.all(linear[1:] != linear[:-1]):
            raise ValueError("duplicate (participant, statement) pairs: one vote per pair")
        # Row-major order, so the CSR structure below is built without scipy's COO conversion.
        pi, si, v = pi[order], si[order], v[order]
    return pi, si, v.astype(np.int8), n_p, n_s


def _top_components(
    c: sp.csr_matrix, n_comp: int, params: OpinionParameters
) -> tuple[FloatArray, FloatArray, str]:
    """Top right singular vectors (rows), singular values and the method used."""
    rows, cols = c.shape
    n_comp = min(n_comp, rows, cols)
    if rows * cols <= _DENSE_SVD_MAX_CELLS or n_comp + params.svd_oversamples >= min(rows, cols):
        dense = c.toarray()
        u, sing, vt = np.linalg.svd(dense, full_matrices=False)
        u, vt = svd_flip(u, vt)
        return (
            np.asarray(vt[:n_comp], dtype=np.float64),
            np.asarray(sing[:n_comp]),
            "dense LAPACK SVD",
        )
    u, sing, vt = randomized_svd(
        c,
        n_components=n_comp,
        n_oversamples=params.svd_oversamples,
        n_iter=params.svd_n_iter,
        random_state=params.seed,
    )
    return np.asarray(vt, dtype=np.float64), np.asarray(sing), "sklearn randomized_svd"


def _relabel(labels: IntArray) -> IntArray:
    """Renumber labels by group size (descending), then lowest member index; stable output."""
    uniq = np.unique(labels)
    keys = []
    for g in uniq:
        members = np.flatnonzero(labels == g)
        keys.append((-members.size, int(members[0]), int(g)))
    keys.sort()
    mapping = np.empty(int(uniq.max()) + 1, dtype=np.int64)
    for new, (_, _, old) in enumerate(keys):
        mapping[old] = new
    return mapping[labels]


def _cluster(z: FloatArray, params: OpinionParameters) -> tuple[IntArray, int, dict[int, float]]:
    n = z.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0, {}
    distinct = np.unique(np.round(z, 12), axis=0)
    if n < 3 or distinct.shape[0] < 2:
        return np.zeros(n, dtype=np.int64), 1, {}
    n_base = min(params.n_base_clusters, distinct.shape[0])
    base = KMeans(n_clusters=n_base, n_init=params.n_init_base, random_state=params.seed).fit(z)
    base_labels = np.asarray(base.labels_, dtype=np.int64)
    weights = np.bincount(base_labels, minlength=n_base).astype(np.float64)
    centroids = np.asarray(base.cluster_centers_, dtype=np.float64)
    if n > params.silhouette_sample:
        rng = np.random.default_rng(params.seed)
        sample = np.sort(rng.choice(n, size=params.silhouette_sample, replace=False))
    else:
        sample = np.arange(n)
    scores: dict[int, float] = {}
    best: tuple[float, int, IntArray] | None = None
    for k in range(2, min(params.max_k, n_base) + 1):
        km = KMeans(n_clusters=k, n_init=params.n_init_groups, random_state=params.seed)
        centroid_labels = np.asarray(km.fit(centroids, sample_weight=weights).labels_)
        labels = centroid_labels[base_labels].astype(np.int64)
        sl = labels[sample]
        n_labels = np.unique(sl).size
        if n_labels < 2 or n_labels >= sl.size:
            continue
        score = float(silhouette_score(z[sample], sl))
        scores[k] = score
        if best is None or score > best[0] + 1e-12:
            best = (score, k, labels)
    if best is None:
        return np.zeros(n, dtype=np.int64), 1, scores
    labels = _relabel(best[2])
    return labels, int(labels.max()) + 1, scores


def _z_two_prop(
    succ1: FloatArray, n1: FloatArray, succ2: FloatArray, n2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    p1 = (succ1 + 1.0) / (n1 + 2.0)
    p2 = (succ2 + 1.0) / (n2 + 2.0)
    pool = (succ1 + succ2 + 2.0) / (n1 + n2 + 4.0)
    se = np.sqrt(pool * (1.0 - pool) * (1.0 / (n1 + 2.0) + 1.0 / (n2 + 2.0)))
    return (p1 - p2) / se, p1, p2


def compute_opinions(
    participant_idx: ArrayLike,
    statement_idx: ArrayLike,
    vote: ArrayLike,
    shape: tuple[int, int],
    params: OpinionParameters | None = None,
) -> OpinionResult:
    """Compute the 2-D map, opinion groups and statement lists (see the module docstring).

    Raises ``ValueError`` for malformed input (length or shape mismatch, indices out of range,
    votes outside {-1, 0, 1}, duplicate pairs). Degenerate but valid input never raises.
    """
    params = params or OpinionParameters()
    params.validate()
    pi, si, v, n_p, n_s = _validate(participant_idx, statement_idx, vote, shape)

    # One CSR structure (votes sorted row-major by _validate) shared by every matrix below.
    n_votes_row = np.bincount(pi, minlength=n_p)
    indptr = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(n_votes_row, out=indptr[1:])
    indices = si.astype(np.int32 if n_s < 2**31 else np.int64)

    def csr(data: NDArray[Any]) -> sp.csr_matrix:
        return sp.csr_matrix((data, indices, indptr), shape=(n_p, n_s))

    voted = csr(np.ones(pi.size, dtype=np.float32))
    agree = csr((v == 1).astype(np.float32))
    disagree = csr((v == -1).astype(np.float32))
    n_votes_p = n_votes_row.astype(np.float64)

    eligible = np.flatnonzero(n_votes_p >= max(params.min_votes, 1))
    n_comp = params.components()

    coords_full = np.zeros((n_p, n_comp))
    evr = np.zeros(0)
    svd_method = "none (no eligible participant)"
    if eligible.size and n_s:
        in_fit = (n_votes_p >= max(params.min_votes, 1))[pi]  # per vote: voter is eligible
        col_votes = np.bincount(si, weights=in_fit.astype(np.float64), minlength=n_s)
        col_sum = np.bincount(si, weights=np.where(in_fit, v, 0).astype(np.float64), minlength=n_s)
        mu = np.divide(col_sum, col_votes, out=np.zeros(n_s), where=col_votes > 0)
        # C = X - M * mu, same sparsity as M (missing votes are imputed by the mean => 0).
        c_all = csr(v.astype(np.float64) - mu[si])
        c_e = c_all if eligible.size == n_p else c_all[eligible]
        vt, sing, svd_method = _top_components(c_e, n_comp, params)
        total_var = float(np.dot(c_e.data, c_e.data))
        evr = (sing**2) / total_var if total_var > 0 else np.zeros_like(sing)
        proj = np.asarray(c_all @ vt.T)
        scale = np.sqrt(np.divide(n_s, n_votes_p, out=np.zeros(n_p), where=n_votes_p > 0))
        proj *= scale[:, np.newaxis]
        coords_full[:, : proj.shape[1]] = proj

    labels = np.full(n_p, -1, dtype=np.int64)
    elig_labels, k, sil = _cluster(coords_full[eligible], params)
    labels[eligible] = elig_labels

    # Per-group statement counts: indicator (k x n_p) @ (n_p x n_s).
    if k:
        ind = sp.csr_matrix((np.ones(eligible.size), (elig_labels, eligible)), shape=(k, n_p))
        g_agree = np.asarray((ind @ agree).toarray(), dtype=np.float64)
        g_dis = np.asarray((ind @ disagree).toarray(), dtype=np.float64)
        g_n = np.asarray((ind @ voted).toarray(), dtype=np.float64)
    else:
        g_agree = g_dis = g_n = np.zeros((0, n_s))
    g_rate = (g_agree + 1.0) / (g_n + 2.0)

    groups: list[GroupSummary] = []
    tot_a, tot_d, tot_n = g_agree.sum(axis=0), g_dis.sum(axis=0), g_n.sum(axis=0)
    for g in range(k):
        reps: list[RepresentativeStatement] = []
        if k >= 2:
            rest_n = tot_n - g_n[g]
            za, pa_in, pa_out = _z_two_prop(g_agree[g], g_n[g], tot_a - g_agree[g], rest_n)
            zd, pd_in, pd_out = _z_two_prop(g_dis[g], g_n[g], tot_d - g_dis[g], rest_n)
            cands: list[tuple[float, int, str, float, float]] = []
            for ja in np.flatnonzero((za >= params.z_threshold) & (pa_in > 0.5)).tolist():
                cands.append((float(za[ja]), ja, "agree", float(pa_in[ja]), float(pa_out[ja])))
            for jd in np.flatnonzero((zd >= params.z_threshold) & (pd_in > 0.5)).tolist():
                cands.append((float(zd[jd]), jd, "disagree", float(pd_in[jd]), float(pd_out[jd])))
            cands.sort(key=lambda t: (-t[0], t[1], t[2]))
            for zval, st, direction, r_in, r_out in cands[: params.n_representative]:
                a, d, n = int(g_agree[g, st]), int(g_dis[g, st]), int(g_n[g, st])
                reps.append(
                    RepresentativeStatement(st, direction, zval, r_in, r_out, a, d, n - a - d)
                )
        groups.append(GroupSummary(g, int((elig_labels == g).sum()), tuple(reps)))

    if k:
        gic = np.prod(g_rate, axis=0)
        ok = np.all(g_rate > params.consensus_min_agree, axis=0)
        order = np.lexsort((np.arange(n_s), -gic))
        consensus = tuple(int(j) for j in order if ok[j])[: params.n_consensus]
    else:
        gic = np.zeros(n_s)
        consensus = ()

    s_votes = np.bincount(si, minlength=n_s).astype(np.float64)
    s_agree = np.bincount(si[v == 1], minlength=n_s).astype(np.float64)
    agree_rate = np.divide(s_agree, s_votes, out=np.zeros(n_s), where=s_votes > 0)
    maj_ok = (s_votes >= max(params.min_statement_votes, 1)) & (
        agree_rate >= params.majority_threshold
    )
    maj_order = np.lexsort((np.arange(n_s), -agree_rate))
    majority = tuple(int(j) for j in maj_order if maj_ok[j])

    spread = g_rate.max(axis=0) - g_rate.min(axis=0) if k >= 2 else np.zeros(n_s)
    div_order = np.lexsort((np.arange(n_s), -spread))
    divisive = tuple(int(j) for j in div_order if spread[j] >= params.divisive_min_spread)[
        : params.n_divisive
    ]

    parameters: dict[str, Any] = asdict(params)
    parameters.update(
        cluster_components=n_comp,
        eligible_participants=int(eligible.size),
        n_votes=int(pi.size),
        svd=svd_method,
        versions={
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
        },
    )
    return OpinionResult(
        n_participants=n_p,
        n_statements=n_s,
        coords=_readonly(np.ascontiguousarray(coords_full[:, :2])),
        labels=_readonly(labels),
        k=k,
        silhouette_by_k=sil,
        groups=tuple(groups),
        group_agree_rate=_readonly(g_rate),
        consensus_scores=_readonly(gic),
        consensus=consensus,
        agree_rate=_readonly(agree_rate),
        majority=majority,
        divisive_spread=_readonly(spread),
        divisive=divisive,
        explained_variance_ratio=_readonly(np.asarray(evr, dtype=np.float64)),
        parameters=parameters,
    )
