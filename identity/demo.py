"""Demo data for the identity app: municipalities, staff and residents (documented in README)."""

from __future__ import annotations

from datetime import date, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.utils import timezone

from identity import demo_idp, services
from identity.audit import audit_record
from identity.eligibility import TOKYO
from identity.keys import PersonFacts, identity_hash, person_hash
from identity.models import (
    DocumentType,
    EndReason,
    IdentityProvider,
    Municipality,
    RegisterEntry,
    ResidentRegister,
    Role,
    RoleAssignment,
    User,
    Verification,
    VerificationMethod,
)
from identity.totp import totp_activate

DEMO_PASSWORD = "mebuku-demo-2026"  # noqa: S105  # (public, documented demo)  # nosec B105
# Public, documented TOTP secret of the demo staff accounts (`manage.py demo_totp` prints the code),
# so the demo's staff actions go through the real, MFA-guarded services.
DEMO_TOTP_SECRET = "MEBUKUDEMOSTAFFTOTPSECRETZZ77777"  # noqa: S105  # (public demo)  # nosec B105

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


def _demo_totp(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        with transaction.atomic():
            totp_activate(user, DEMO_TOTP_SECRET)


def _municipality(spec: dict[str, str]) -> Municipality:
    existing = Municipality.objects.filter(slug=spec["slug"]).first()
    return existing or services.municipality_create(actor=None, **spec)


def seed() -> None:
    with transaction.atomic():
        _account("operator@example.jp", "サイト運営者", superuser=True)
    municipalities = [_municipality(spec) for spec in MUNICIPALITIES]
    for spec, municipality in zip(MUNICIPALITIES, municipalities, strict=True):
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
            _demo_totp(User.objects.get(email=email))
        for number, name in enumerate(RESIDENT_NAMES, start=1):
            with transaction.atomic():
                _account(f"resident{number:02d}@{slug}.example.jp", name)
        _seed_residents(municipality, other=next(m for m in municipalities if m != municipality))
        _seed_identity_provider(municipality)


def _seed_identity_provider(municipality: Municipality) -> None:
    """The demo's own provider (identity.demo_idp, run by `make run`), set up as an administrator
    would, so the first way to verify works in the demo. An existing setting is left alone."""
    if IdentityProvider.objects.filter(municipality=municipality).exists():
        return
    services.identity_provider_configure(
        actor=User.objects.get(email=f"admin@{municipality.slug}.example.jp"),
        municipality=municipality,
        name=demo_idp.NAMES[municipality.slug],
        server_url=demo_idp.issuer(municipality.slug),
        client_id=demo_idp.client_id(municipality.slug),
        secret=demo_idp.CLIENT_SECRET,
    )


# Residents and their verifications ---------------------------------------------------------------
#
# resident01–20: verified, ages 18 to 90 spread evenly, methods in turn oidc → register → counter.
# Extra accounts per municipality (README, "Demo residents"):
#   teen@      17 today (verified): under_age for the usual 18+ rule
#   unverified@ no verification: not_verified
#   elsewhere@  verified in the *other* municipality only: not_resident here
#   expired@    a counter verification that expired a month ago: verification_expired
#   revoked@    a verification withdrawn by the counter (recorded in error): verification_revoked

METHODS = (VerificationMethod.OIDC, VerificationMethod.REGISTER, VerificationMethod.COUNTER)
EXTRA_RESIDENTS = [
    ("teen", "若林 蓮"),
    ("unverified", "未確認 次郎"),
    ("elsewhere", "転入 予定子"),
    ("expired", "期限 切子"),
    ("revoked", "取消 三郎"),
]


def _years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _birth_date(today: date, age: int, number: int) -> date:
    """Someone who turned `age` between 3 and 40 days ago, so they keep it for most of a year."""
    return _years_ago(today, age) - timedelta(days=3 + number % 38)


def _age_of(number: int) -> int:
    """resident01 is 18, resident20 is 90, the rest evenly between."""
    return 18 + round((number - 1) * (90 - 18) / (len(RESIDENT_NAMES) - 1))


def _facts(municipality: Municipality, name: str, birth_date: date, number: int) -> PersonFacts:
    address = f"{municipality.name}本町{number % 5 + 1}丁目{number}番{number % 9 + 1}号"
    return PersonFacts(name=name, birth_date=birth_date, address=address)


def _clerk(municipality: Municipality) -> User:
    return User.objects.get(email=f"counter@{municipality.slug}.example.jp")


def _demo_register(municipality: Municipality) -> ResidentRegister:
    """A current register to match against; the real one is uploaded by the election office
    (services.register_import, which needs an MFA-secured role the demo staff lack at first)."""
    register = ResidentRegister.objects.filter(municipality=municipality, is_current=True).first()
    if register is None:
        register = ResidentRegister.objects.create(
            municipality=municipality, reference_date=timezone.localdate(), row_count=0
        )
    return register


def _verify(user: User, municipality: Municipality, method: str, person: PersonFacts) -> None:
    if method == VerificationMethod.OIDC:
        services.verification_by_oidc(
            user=user,
            municipality=municipality,
            issuer=f"https://id.{municipality.slug}.example.jp",
            subject=f"demo:{user.email}",
            person=person,
        )
    elif method == VerificationMethod.REGISTER:
        with transaction.atomic():
            register = _demo_register(municipality)
            RegisterEntry.objects.get_or_create(
                register=register,
                person_hash=person_hash(person, municipality.name),
                defaults={
                    # Hashed as identity.register hashes a register file's resident key.
                    "key_hash": identity_hash(
                        VerificationMethod.REGISTER,
                        f"{municipality.slug}:{user.email}",
                    ),
                    "resident_since": person.birth_date,
                },
            )
            register.row_count = register.entries.count()
            register.save(update_fields=["row_count"])
        services.verification_by_register(user=user, municipality=municipality, person=person)
    else:
        services.verification_by_counter(
            actor=_clerk(municipality),
            municipality=municipality,
            user=user,
            person=person,
            document_type=DocumentType.MY_NUMBER_CARD,
        )


def _verified_once(user: User, municipality: Municipality) -> bool:
    return Verification.objects.filter(user=user, municipality=municipality).exists()


def _seed_residents(municipality: Municipality, *, other: Municipality) -> None:
    slug = municipality.slug
    today = timezone.now().astimezone(TOKYO).date()
    for number, name in enumerate(RESIDENT_NAMES, start=1):
        user = User.objects.get(email=f"resident{number:02d}@{slug}.example.jp")
        if not _verified_once(user, municipality):
            person = _facts(municipality, name, _birth_date(today, _age_of(number), number), number)
            _verify(user, municipality, METHODS[(number - 1) % len(METHODS)], person)
    accounts = {}
    for local, name in EXTRA_RESIDENTS:
        with transaction.atomic():
            accounts[local] = _account(f"{local}@{slug}.example.jp", name)
    teen = accounts["teen"]
    if not _verified_once(teen, municipality):
        # Turned 17 two days ago: 17 for almost a year after seeding.
        birth = _years_ago(today, 17) - timedelta(days=2)
        _verify(
            teen, municipality, VerificationMethod.OIDC, _facts(municipality, "若林 蓮", birth, 21)
        )
    elsewhere = accounts["elsewhere"]
    if not _verified_once(elsewhere, other):
        person = _facts(other, "転入 予定子", _birth_date(today, 34, 22), 22)
        _verify(elsewhere, other, VerificationMethod.REGISTER, person)
    expired = accounts["expired"]
    if not _verified_once(expired, municipality):
        _seed_expired(
            expired, municipality, _facts(municipality, "期限 切子", _birth_date(today, 52, 23), 23)
        )
    revoked = accounts["revoked"]
    if not _verified_once(revoked, municipality):
        person = _facts(municipality, "取消 三郎", _birth_date(today, 45, 24), 24)
        _verify(revoked, municipality, VerificationMethod.COUNTER, person)
        _seed_revoked(revoked, municipality)


@transaction.atomic(durable=True)
def _seed_expired(user: User, municipality: Municipality, person: PersonFacts) -> None:
    """Written directly: every service stamps a verification with *now*, and an expired one needs
    dates in the past (verified long ago, expired 30 days ago). Audited like the service would."""
    clerk = _clerk(municipality)
    expires_at = timezone.now() - timedelta(days=30)
    verification = Verification.objects.create(
        user=user,
        municipality=municipality,
        method=VerificationMethod.COUNTER,
        identity_hash=identity_hash(
            VerificationMethod.COUNTER, person_hash(person, municipality.name)
        ),
        person_hash=person_hash(person, municipality.name),
        legal_name=person.name,
        birth_date=person.birth_date,
        address=person.address,
        document_type=DocumentType.DRIVERS_LICENSE,
        verified_by=clerk,
        verified_at=expires_at - timedelta(days=municipality.verification_valid_days),
        expires_at=expires_at,
    )
    audit_record(
        actor=clerk,
        municipality=municipality,
        action="verification.create",
        target=verification,
        data={"user": user.pk, "method": verification.method, "demo": "backdated"},
    )


def _seed_revoked(user: User, municipality: Municipality) -> None:
    verification = Verification.objects.get(
        user=user, municipality=municipality, ended_at__isnull=True
    )
    services.verification_revoke(
        actor=_clerk(municipality),
        municipality=municipality,
        verification_id=verification.pk,
        reason=EndReason.ERROR,
        note="Demo: recorded in error",
    )
