"""Test data, made the way the platform makes it.

Plain rows (municipalities, accounts, proposal types) are written directly; everything the domain
makes through a service (a verified resident, a filed proposal, a debate with its phases, an
election with its trustees and frozen roll) is made by that service here too, so a test never
starts from a state the platform could not reach.
"""

from __future__ import annotations

import builtins
import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta
from importlib import import_module
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.test import Client
from django.utils import timezone

from debates.models import Debate
from debates.services import DebateDraft, PhaseSpec, debate_create, phases_set
from identity import services as identity_services
from identity.keys import PersonFacts
from identity.models import DocumentType, Municipality, Role, RoleAssignment, User, Verification
from identity.totp import totp_activate
from proposals.models import Proposal, ProposalType
from proposals.services import ProposalDraft, collection_open, proposal_file
from voting import services as voting_services
from voting.election import TrusteeKey
from voting.models import Election
from voting.services import ElectionValues, QuestionValues

PASSWORD = "correct-horse-battery"


class MunicipalityFactory(factory.django.DjangoModelFactory[Municipality]):
    class Meta:
        model = Municipality
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"town{n}")
    name = factory.Sequence(lambda n: f"町{n}")
    name_en = factory.Sequence(lambda n: f"Town {n}")
    code = factory.Sequence(lambda n: f"{900000 + n:06d}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.jp")
    display_name = factory.Sequence(lambda n: f"住民{n}")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


def grant(user: User, municipality: Municipality, role: str) -> RoleAssignment:
    return identity_services.role_grant(
        actor=None, municipality=municipality, email=user.email, role=role
    )


def enable_totp(user: User) -> str:
    """Give `user` a TOTP authenticator (as allauth's activation would) and return its secret."""
    with transaction.atomic():
        return totp_activate(user)


def staff(municipality: Municipality, role: str, *, mfa: bool = True, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    grant(user, municipality, role)
    if mfa:
        enable_totp(user)
    return user


def session_token(user: User) -> str:
    """A signed-in session whose key an API client sends as `X-Session-Token` (what allauth's
    headless login would hand out), without going through the login."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


# Residents -------------------------------------------------------------------------------------


def counter_clerk(municipality: Municipality) -> User:
    """The clerk who verifies residents of `municipality` at the counter: one per municipality
    object, so a test's residents share one clerk (and one audit actor)."""
    clerk: User | None = getattr(municipality, "_test_clerk", None)
    if clerk is None:
        clerk = staff(municipality, Role.COUNTER_CLERK)
        municipality._test_clerk = clerk
    return clerk


class VerificationFactory(factory.django.DjangoModelFactory[Verification]):
    """A resident verified at the counter, made by `verification_by_counter` (permission checks,
    identity and person hashes, audit entry) rather than written directly."""

    class Meta:
        model = Verification

    user = factory.SubFactory(UserFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    verified_by = factory.LazyAttribute(lambda o: counter_clerk(o.municipality))
    legal_name = factory.LazyAttribute(lambda o: f"住民 {o.user.pk}")
    birth_date = date(1980, 4, 1)
    address = factory.LazyAttribute(lambda o: f"大手町{o.user.pk}-1")
    document_type = DocumentType.MY_NUMBER_CARD
    resident_since = None

    @classmethod
    def _create(
        cls,
        model_class: type[Verification],
        *,
        user: User,
        municipality: Municipality,
        verified_by: User,
        legal_name: str,
        birth_date: date,
        address: str,
        document_type: str,
        resident_since: date | None,
    ) -> Verification:
        return identity_services.verification_by_counter(
            actor=verified_by,
            municipality=municipality,
            user=user,
            person=PersonFacts(legal_name, birth_date, address),
            document_type=document_type,
            resident_since=resident_since,
        )


def verified(
    municipality: Municipality, *, birth: date = date(1980, 4, 1), **user_fields: Any
) -> User:
    """A new account, verified as a resident of `municipality` at the counter."""
    user = UserFactory(**user_fields)
    VerificationFactory(user=user, municipality=municipality, birth_date=birth)
    return user


# The resident register, as the election office exports it --------------------------------------

REGISTER_HEADER_JA = ("住民票コード", "氏名", "生年月日", "住所", "住民となった日")
TARO = ("10000000001", "山田 太郎", "1990-04-01", "前橋市大手町二丁目12番1号", "2001-05-01")
HANAKO = ("10000000002", "鈴木 花子", "昭和60年12月3日", "前橋市本町一丁目3番", "")
JIRO = ("10000000003", "佐藤 次郎", "2000-01-31", "前橋市千代田町5-2", "")
SABURO = ("10000000004", "高橋 三郎", "平成元年2月1日", "前橋市朝日町4-1-1", "")


def register_csv(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] = REGISTER_HEADER_JA,
    encoding: str = "utf-8",
) -> bytes:
    """A register file: a header line, then `rows`, CRLF line ends, in `encoding`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


# Proposals -------------------------------------------------------------------------------------


class ProposalTypeFactory(factory.django.DjangoModelFactory[ProposalType]):
    """A kind of proposal as an ordinance defines it: ten signatures within sixty days, 18+."""

    class Meta:
        model = ProposalType

    municipality = factory.SubFactory(MunicipalityFactory)
    name = "市民政策提案"
    threshold_fixed = 10
    collection_days = 60
    min_age = 18


class ProposalFactory(factory.django.DjangoModelFactory[Proposal]):
    """A proposal filed by its author through `proposal_file` (so the author must be an eligible
    resident); `collecting=True` also opens signature collection through `collection_open`."""

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    type = factory.SubFactory(ProposalTypeFactory)
    municipality = factory.SelfAttribute("type.municipality")
    author = factory.LazyAttribute(lambda o: verified(o.municipality))
    title = "子育て支援の充実"
    summary = "保育所を増やす"
    body = "# 提案\n本文"
    category = ""
    location = ""

    @classmethod
    def _create(
        cls,
        model_class: builtins.type[Proposal],
        *,
        type: ProposalType,
        municipality: Municipality,
        author: User,
        title: str,
        summary: str,
        body: str,
        category: str,
        location: str,
    ) -> Proposal:
        return proposal_file(
            actor=author,
            municipality=municipality,
            type_id=type.pk,
            draft=ProposalDraft(title, summary, body, category, location),
        )

    @factory.post_generation
    def collecting(obj: Proposal, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted:
            collection_open(actor=obj.author, municipality=obj.municipality, proposal_id=obj.pk)
            obj.refresh_from_db()


# Debates ---------------------------------------------------------------------------------------


class DebateFactory(factory.django.DjangoModelFactory[Debate]):
    """A debate made by a moderator through `debate_create`. `phases` (kinds, in order) are set
    through `phases_set`: the first started a day ago, each lasts a week, the next follows."""

    class Meta:
        model = Debate

    municipality = factory.SubFactory(MunicipalityFactory)
    created_by = factory.LazyAttribute(lambda o: staff(o.municipality, Role.MODERATOR))
    question = "駅前広場をどう使う？"
    background = ""
    min_age = 18
    residence_required = True
    proposal = None
    moderators: Sequence[User] = ()
    phases: Sequence[str] = ()

    @classmethod
    def _create(
        cls,
        model_class: type[Debate],
        *,
        municipality: Municipality,
        created_by: User,
        question: str,
        background: str,
        min_age: int,
        residence_required: bool,
        proposal: Proposal | None,
        moderators: Sequence[User],
        phases: Sequence[str],
    ) -> Debate:
        debate = debate_create(
            actor=created_by,
            municipality=municipality,
            draft=DebateDraft(
                question=question,
                background=background,
                min_age=min_age,
                residence_required=residence_required,
                proposal_id=proposal.pk if proposal is not None else None,
                moderator_ids=[user.pk for user in moderators],
            ),
        )
        if phases:
            start = timezone.now() - timedelta(days=1)
            specs = []
            for kind in phases:
                specs.append(PhaseSpec(kind, start, start + timedelta(days=7)))
                start += timedelta(days=7)
            phases_set(actor=created_by, debate_id=debate.pk, phases=specs)
        return debate


# Elections -------------------------------------------------------------------------------------

QUESTIONS = [
    QuestionValues.yes_no("新しい図書館を建てることに賛成ですか。"),
    QuestionValues.choose_up_to(
        "優先する施設を二つまで選んでください。", ["公園", "保育所", "図書館"], 2
    ),
]


def election_values(**overrides: Any) -> ElectionValues:
    """What the office enters for an election: open since five minutes ago, for a week."""
    now = timezone.now()
    values: dict[str, Any] = {
        "title": "市民投票: 新図書館の建設",
        "explanation": "市の中心部に新しい図書館を建てるかどうか。",
        "opens_at": now - timedelta(minutes=5),
        "closes_at": now + timedelta(days=7),
        "min_age": 18,
    }
    values.update(overrides)
    return ElectionValues(**values)


class ElectionFactory(factory.django.DjangoModelFactory[Election]):
    """An election prepared by its office through the services: `election_create`, the
    `questions`, each of `trustees` appointed and uploading the public part of its key in `keys`
    (keys made with the election library, as the trustee tool does). `frozen=True` then freezes
    it (`election_freeze` snapshots the roll, so make the voters first); it is open at once."""

    class Meta:
        model = Election

    municipality = factory.SubFactory(MunicipalityFactory)
    created_by = factory.LazyAttribute(lambda o: staff(o.municipality, Role.ELECTION_OFFICE))
    title = "市民投票: 新図書館の建設"
    explanation = "市の中心部に新しい図書館を建てるかどうか。"
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    min_age = 18
    register_date = None
    methods = None  # None: what ElectionValues accepts by default (every method)
    questions: Sequence[QuestionValues] = QUESTIONS
    keys: Sequence[TrusteeKey] = ()
    trustees = factory.LazyAttribute(lambda o: [UserFactory() for _ in o.keys])
    frozen = False

    @classmethod
    def _create(
        cls,
        model_class: type[Election],
        *,
        municipality: Municipality,
        created_by: User,
        questions: Sequence[QuestionValues],
        keys: Sequence[TrusteeKey],
        trustees: Sequence[User],
        frozen: bool,
        methods: Sequence[str] | None,
        **values: Any,
    ) -> Election:
        if methods is not None:
            values["methods"] = methods
        election = voting_services.election_create(
            actor=created_by, municipality=municipality, values=ElectionValues(**values)
        )
        voting_services.questions_set(
            actor=created_by,
            municipality=municipality,
            election_id=election.pk,
            questions=questions,
        )
        for user, key in zip(trustees, keys, strict=True):
            voting_services.trustee_appoint(
                actor=created_by,
                municipality=municipality,
                election_id=election.pk,
                email=user.email,
            )
            voting_services.trustee_key_upload(
                actor=user,
                municipality=municipality,
                election_id=election.pk,
                upload=key.upload_json(),
            )
        if frozen:
            voting_services.election_freeze(
                actor=created_by, municipality=municipality, election_id=election.pk
            )
            election.refresh_from_db()
        return election


def logged_in(user: User) -> Client:
    """A test client signed in as `user` (the site's default language)."""
    client = Client()
    client.force_login(user)
    return client
