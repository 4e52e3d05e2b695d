"""Opinion-group benchmark (issue 6): compute time and peak memory of `compute_opinions`.

    .venv/bin/python bench/converge.py [--participants 10000] [--statements 1000] [--density 0.3]
                                       [--groups 4] [--seed 0]

Builds a synthetic debate (a few latent groups with their own statements, shared statements,
noise, `--density` of the votes present) in chunks so the generator does not dominate the RSS,
then times `debates.opinion.compute_opinions` twice: once plain (wall and CPU time) and once under
tracemalloc (peak of Python/numpy allocations). Prints both, the process's max RSS
(resource.getrusage, includes the interpreter, libraries and the input arrays), the load average,
the recovered groups (adjusted Rand index against the latent groups) and the parameters.
Target: 10,000 x 1,000 at 30 % in under 30 s and under 2 GB on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from debates.opinion import compute_opinions


def synthetic(
    n_p: int, n_s: int, density: float, n_groups: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_groups, size=n_p)
    n_shared = max(1, n_s // 10)
    owner = np.concatenate([rng.integers(0, n_groups, size=n_s - n_shared), np.full(n_shared, -1)])
    # Per-statement agree probability for each group: own 0.8, others 0.2, shared 0.85.
    p_agree = np.where(owner[None, :] == np.arange(n_groups)[:, None], 0.8, 0.2)
    p_agree[:, owner == -1] = 0.85
    ps, ss, vs = [], [], []
    for start in range(0, n_p, 1000):
        rows = np.arange(start, min(n_p, start + 1000))
        present = rng.random((rows.size, n_s)) < density
        r, c = np.nonzero(present)
        u = rng.random(r.size)
        pa = p_agree[truth[rows[r]], c]
        vote = np.where(u < pa, 1, np.where(u < pa + 0.1, 0, -1)).astype(np.int8)
        ps.append((rows[r]).astype(np.int32))
        ss.append(c.astype(np.int32))
        vs.append(vote)
    return np.concatenate(ps), np.concatenate(ss), np.concatenate(vs), truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=10_000)
    ap.add_argument("--statements", type=int, default=1_000)
    ap.add_argument("--density", type=float, default=0.3)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    t0 = time.perf_counter()
    p, s, v, truth = synthetic(
        args.participants, args.statements, args.density, args.groups, args.seed
    )
    shape = (args.participants, args.statements)
    print(
        f"synthetic debate: {shape[0]:,} x {shape[1]:,}, {v.size:,} votes "
        f"({v.size / (shape[0] * shape[1]):.1%}), {args.groups} latent groups, "
        f"built in {time.perf_counter() - t0:.1f} s"
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    w0, c0 = time.perf_counter(), time.process_time()
    result = compute_opinions(p, s, v, shape)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tracemalloc.start()
    w1 = time.perf_counter()
    again = compute_opinions(p, s, v, shape)
    traced_wall = time.perf_counter() - w1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    clustered = result.labels >= 0
    ari = adjusted_rand_score(truth[clustered], result.labels[clustered])
    same = np.array_equal(result.labels, again.labels) and np.array_equal(
        result.coords, again.coords
    )
    print(f"compute time: {wall:.2f} s wall, {cpu:.2f} s CPU (process, all threads)")
    print(f"compute time under tracemalloc: {traced_wall:.2f} s wall")
    print(f"tracemalloc peak: {peak / 2**20:.0f} MiB")
    print(
        f"max RSS: {rss:.0f} MiB (after input generation: {rss_before:.0f} MiB; "
        "includes interpreter, libraries and the input arrays)"
    )
    print(f"load average after: {os.getloadavg()}")
    print(
        f"k = {result.k}, group sizes {[g.size for g in result.groups]}, "
        f"clustered {int(clustered.sum()):,}, ARI vs latent groups {ari:.3f}, "
        f"identical on rerun: {same}"
    )
    print(
        "silhouette by k: "
        + ", ".join(f"{k}: {sc:.3f}" for k, sc in sorted(result.silhouette_by_k.items()))
    )
    print(
        f"consensus: {len(result.consensus)} listed, majority: {len(result.majority)}, "
        f"divisive: {len(result.divisive)}"
    )
    print("parameters: " + json.dumps(result.parameters, sort_keys=True))


if __name__ == "__main__":
    main()
