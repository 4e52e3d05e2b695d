"""Demo data for the identity app: municipalities, staff and residents (documented in README)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from identity import services
from identity.models import Municipality, Role, RoleAssignment, User

DEMO_PASSWORD = "mebuku-demo-2026"  # noqa: S105  (public, documented demo password)

MUNICIPALITIES = [
    {"slug": "maebashi", "name": "前橋市", "name_en": "Maebashi", "code": "102016"},
    {"slug": "kamakura", "name": "鎌倉市", "name_en": "Kamakura", "code": "142042"},
]

STAFF = [
    ("admin", Role.ADMINISTRATOR, "管理者"),
    ("council", Role.COUNCIL, "議会事務局"),
    ("election", Role.ELECTION_OFFICE, "選挙管理委員会"),
    ("moderator", Role.MODERATOR, "モデレーター"),
    ("counter", Role.COUNTER_CLERK, "窓口担当"),
]

RESIDENT_NAMES = [
    "佐藤 花子",
    "鈴木 一郎",
    "高橋 美咲",
    "田中 健",
    "伊藤 さくら",
    "渡辺 大輔",
    "山本 陽子",
    "中村 翔",
    "小林 由美",
    "加藤 誠",
    "吉田 愛",
    "山田 太郎",
    "佐々木 恵",
    "山口 拓也",
    "松本 彩",
    "井上 修",
    "木村 優子",
    "林 浩二",
    "斎藤 真由美",
    "清水 進",
]


def _account(email: str, display_name: str, *, superuser: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(
            email=email, display_name=display_name, is_superuser=superuser, is_staff=superuser
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _municipality(spec: dict[str, str]) -> Municipality:
    existing = Municipality.objects.filter(slug=spec["slug"]).first()
    return existing or services.municipality_create(actor=None, **spec)


def seed() -> None:
    with transaction.atomic():
        _account("operator@example.jp", "サイト運営者", superuser=True)
    for spec in MUNICIPALITIES:
        municipality = _municipality(spec)
        slug = spec["slug"]
        for local, role, label in STAFF:
            email = f"{local}@{slug}.example.jp"
            with transaction.atomic():
                _account(email, f"{spec['name']} {label}")
            held = RoleAssignment.objects.active().filter(
                user__email=email, municipality=municipality, role=role
            )
            if not held.exists():
                services.role_grant(actor=None, municipality=municipality, email=email, role=role)
        for number, name in enumerate(RESIDENT_NAMES, start=1):
            with transaction.atomic():
                _account(f"resident{number:02d}@{slug}.example.jp", name)
