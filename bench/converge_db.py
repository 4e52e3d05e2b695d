"""Opinion recomputation from the database (issue 6): what the Celery task does per run.

    DATABASE_URL=postgres://.../mebuku_bench .venv/bin/python bench/converge_db.py \
        [--participants 10000] [--statements 1000] [--density 0.3] [--groups 4] [--keep]

Uses a database of its own (it migrates it and writes a synthetic debate: users, participants,
published statements and votes from bench/converge.py's generator, bulk-inserted), then times
`debates.services.opinions.opinions_compute` once: loading the votes, `compute_opinions`, building
the snapshot JSON and storing it. Prints the phases' wall times, the process's max RSS, the
snapshot's JSON size and the groups found. Without --keep the synthetic debate is deleted after.

Measured (PostgreSQL 15, 2 shared cores at load average ~6): 10,000 x 1,000 at 30 % (3.0 M votes)
recomputed in 9.8 s end to end, max RSS 771 MiB for the whole process (the synthetic data and the
bulk insert included), snapshot JSON 527 kB, the 4 latent groups found (2,534 / 2,531 / 2,496 /
2,439). 2,000 x 500 (0.3 M votes): 2.7 s, 293 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.3)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    import numpy as np
    from converge import synthetic

    from debates.models import (
        Debate,
        OpinionSnapshot,
        Participant,
        Statement,
        StatementOrigin,
        StatementStatus,
        Vote,
    )
    from debates.services import opinions
    from identity.models import Municipality, User

    t0 = time.perf_counter()
    municipality, _ = Municipality.objects.get_or_create(
        slug="bench", defaults={"name": "ベンチ市", "name_en": "Bench", "code": "999999"}
    )
    owner, _ = User.objects.get_or_create(email="bench-owner@example.jp")
    debate = Debate.objects.create(municipality=municipality, question="bench", created_by=owner)
    tag = f"b{debate.pk}"
    users = User.objects.bulk_create(
        [User(email=f"{tag}-{i}@bench.example.jp") for i in range(args.participants)],
        batch_size=5000,
    )
    participants = Participant.objects.bulk_create(
        [Participant(debate=debate, user=u, person_key=f"{tag}-{u.pk}") for u in users],
        batch_size=5000,
    )
    now = debate.created_at
    statements = Statement.objects.bulk_create(
        [
            Statement(
                debate=debate,
                text=f"statement {j}",
                origin=StatementOrigin.MODERATOR,
                author=owner,
                status=StatementStatus.PUBLISHED,
                moderated_at=now,
            )
            for j in range(args.statements)
        ],
        batch_size=5000,
    )
    pi, si, v, truth = synthetic(
        args.participants, args.statements, args.density, args.groups, args.seed
    )
    p_ids = np.array([p.pk for p in participants])
    s_ids = np.array([s.pk for s in statements])
    batch = 50_000
    for start in range(0, pi.size, batch):
        stop = start + batch
        Vote.objects.bulk_create(
            [
                Vote(statement_id=int(s), participant_id=int(p), value=int(x))
                for p, s, x in zip(
                    p_ids[pi[start:stop]], s_ids[si[start:stop]], v[start:stop], strict=True
                )
            ],
            batch_size=batch,
        )
    setup_s = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE debates_vote")

    t1 = time.perf_counter()
    snapshot = opinions.opinions_compute(debate.pk)
    total_s = time.perf_counter() - t1
    assert snapshot is not None
    size = len(json.dumps(snapshot.result))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "participants": args.participants,
                "statements": args.statements,
                "votes": int(v.size),
                "setup_s": round(setup_s, 1),
                "recompute_s": round(total_s, 2),
                "max_rss_mib": round(rss_mib),
                "snapshot_json_bytes": size,
                "groups": snapshot.group_count,
                "group_sizes": [g["size"] for g in snapshot.result["groups"]],
                "latent_groups": len(set(truth.tolist())),
                "load_avg": os.getloadavg(),
            },
            indent=2,
        )
    )
    if not args.keep:
        OpinionSnapshot.objects.filter(debate=debate).delete()
        Vote.objects.filter(statement__debate=debate).delete()
        Statement.objects.filter(debate=debate).delete()
        Participant.objects.filter(debate=debate).delete()
        debate.delete()
        User.objects.filter(email__startswith=f"{tag}-").delete()


if __name__ == "__main__":
    main()
