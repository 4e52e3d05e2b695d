"""Resident register import benchmark (issue 4).

    createdb -h 127.0.0.1 -U postgres mebuku_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mebuku_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mebuku_bench \\
        .venv/bin/python bench/register_import.py [--rows 100000] [--verified 5000]

Generates an N-row register (half the dates in Japanese-era style, some full-width digits) as
CP932 and as UTF-8 with BOM, then against the database in DATABASE_URL prints, with rows/s:
  * parse + validate + hash of each encoding (no database);
  * a first import through services.register_import (CP932);
  * `--verified` residents verified by register match;
  * a dry run and a real re-import (UTF-8) of a register where 5 % moved out and 5 % moved in,
    over the existing register and its verifications.
Each run uses a new municipality, so the database can be reused.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from identity import services  # noqa: E402
from identity.keys import PersonFacts, identity_hash, person_hash  # noqa: E402
from identity.models import Municipality, Role, User, Verification, VerificationMethod  # noqa: E402
from identity.register import ParsedRegister, parse_register  # noqa: E402
from identity.services import register as register_service  # noqa: E402
from identity.totp import totp_activate  # noqa: E402

T = TypeVar("T")
SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
]
GIVEN = [
    "太郎",
    "花子",
    "一郎",
    "次郎",
    "陽子",
    "健太",
    "美咲",
    "翔",
    "結衣",
    "大輔",
    "さくら",
    "蓮",
    "葵",
    "悠真",
    "陽菜",
    "湊",
]
TOWNS = [
    "大手町",
    "本町",
    "千代田町",
    "朝日町",
    "岩神町",
    "国領町",
    "紅雲町",
    "天川町",
    "六供町",
    "石倉町",
]
ERAS = [
    ("令和", date(2019, 5, 1), 2019),
    ("平成", date(1989, 1, 8), 1989),
    ("昭和", date(1926, 12, 25), 1926),
]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
REFERENCE = date(2025, 4, 1)
Row = tuple[str, str, str, str, str]


PARSE_SECONDS: list[float] = []


def _timed_parse(*args: Any, **kwargs: Any) -> ParsedRegister:
    start = time.perf_counter()
    result = parse_register(*args, **kwargs)
    PARSE_SECONDS.append(time.perf_counter() - start)
    return result


# The service's own parse, timed, so an import's figure splits into parsing and database work.
register_service.parse_register = _timed_parse


def timed(label: str, rows: int, work: Callable[[], T]) -> T:
    PARSE_SECONDS.clear()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<52} {seconds:7.2f} s  {rows / seconds:10,.0f} rows/s", flush=True)
    if PARSE_SECONDS:
        parse = PARSE_SECONDS[0]
        print(f"{'  of which parse+validate+hash':<52} {parse:7.2f} s", flush=True)
        print(f"{'  of which the write transaction':<52} {seconds - parse:7.2f} s", flush=True)
    return result


def person(rng: random.Random, serial: int) -> Row:
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 90))
    if serial % 2 and born >= date(1927, 1, 1):
        era, _start, base = next(e for e in ERAS if born >= e[1])
        birth = f"{era}{born.year - base + 1}年{born.month}月{born.day}日"
    else:
        birth = born.isoformat()
    town = rng.choice(TOWNS)
    address = f"前橋市{town}{rng.randint(1, 5)}丁目{rng.randint(1, 40)}番{serial % 997 + 1}号"
    key = f"{serial:011d}"
    if serial % 10 == 0:
        key, birth = key.translate(FULL), birth.translate(FULL)
    name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}{serial}"
    moved_in = min(born + timedelta(days=rng.randrange(365 * 20)), REFERENCE)
    since = moved_in.isoformat() if serial % 3 else ""
    return key, name, birth, address, since


def to_csv(rows: list[Row], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["住民票コード", "氏名", "生年月日", "住所", "住民となった日"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def setup(label: str) -> tuple[Municipality, User]:
    slug = f"bench{int(time.time())}"
    municipality = services.municipality_create(
        actor=None, slug=slug, name="前橋市", name_en=f"Bench {label}", code=slug[-6:]
    )
    user = User.objects.create_user(email=f"admin@{slug}.example.jp")
    services.role_grant(
        actor=None, municipality=municipality, email=user.email, role=Role.ADMINISTRATOR
    )
    with transaction.atomic():
        totp_activate(user)
    return municipality, User.objects.get(pk=user.pk)


def verify_some(municipality: Municipality, rows: list[Row], count: int) -> None:
    """Residents verified by register match, written in bulk as the service would write them."""
    from identity.dates import parse_date

    users = User.objects.bulk_create(
        [User(email=f"r{i}@{municipality.slug}.example.jp") for i in range(count)],
        batch_size=2000,
    )
    now = timezone.now()
    method = VerificationMethod.REGISTER.value
    Verification.objects.bulk_create(
        [
            Verification(
                user=user,
                municipality=municipality,
                method=method,
                identity_hash=identity_hash(method, identity_hash(method, row[0])),
                person_hash=person_hash(
                    PersonFacts(row[1], parse_date(row[2]), row[3]), municipality.name
                ),
                legal_name=row[1],
                birth_date=parse_date(row[2]),
                address=row[3],
                verified_at=now,
                expires_at=now + timedelta(days=365),
            )
            for user, row in zip(users, rows, strict=False)
        ],
        batch_size=2000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--verified", type=int, default=5_000)
    args = parser.parse_args()
    n = args.rows
    rng = random.Random(4)
    rows = [person(rng, i + 1) for i in range(n)]
    cp932, utf8 = to_csv(rows, "cp932"), to_csv(rows, "utf-8-sig")
    print(
        f"{n:,} rows; CP932 {len(cp932) / 2**20:.1f} MiB, UTF-8 {len(utf8) / 2**20:.1f} MiB; "
        f"database: {connection.vendor} {connection.settings_dict['NAME']}"
    )
    for label, data in (("parse+validate+hash, CP932", cp932), ("… UTF-8 with BOM", utf8)):
        parsed = timed(
            label,
            n,
            lambda d=data: parse_register(d, municipality_name="前橋市"),  # type: ignore[misc]
        )
        assert parsed.ok and len(parsed.rows) == n, parsed.errors[:5]

    municipality, admin = setup(str(n))

    def run(data: bytes, *, dry_run: bool) -> services.ImportReport:
        return services.register_import(
            actor=admin,
            municipality=municipality,
            data=data,
            reference_date=REFERENCE,
            dry_run=dry_run,
        )

    report = timed("first import (CP932), total", n, lambda: run(cp932, dry_run=False))
    assert report.applied and report.rows == n, report.errors[:5]
    # Verified residents spread over the register; 5 % of the register then moves out and in.
    verified = rng.sample(rows, min(args.verified, n))
    verify_some(municipality, verified, len(verified))
    gone = set(rng.sample(range(n), n // 20))
    second = [row for i, row in enumerate(rows) if i not in gone]
    second += [person(rng, n + i + 1) for i in range(len(gone))]
    utf8_second = to_csv(second, "utf-8-sig")
    dry = timed(
        f"re-import dry run (UTF-8), {len(verified):,} verified",
        n,
        lambda: run(utf8_second, dry_run=True),
    )
    again = timed(
        f"re-import (UTF-8) over register + {len(verified):,} verified",
        n,
        lambda: run(utf8_second, dry_run=False),
    )
    assert again.applied and (again.kept, again.moved_out) == (dry.kept, dry.moved_out)
    print(f"re-import kept {again.kept:,} verifications and ended {again.moved_out:,} as moved out")


if __name__ == "__main__":
    main()
