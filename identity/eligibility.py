"""The one answer to "may this person do this act here, now?" for signatures, debates and votes.

Ages follow Japanese law (年齢計算ニ関スル法律 with 民法 143): on the calendar date of the act in
Asia/Tokyo a person reaches a new age on the day *before* the birthday anniversary, so someone born
2008-11-24 is 18 on 2026-11-23, and someone born 2008-02-29 is 18 on 2026-02-28.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from identity.keys import PersonFacts, keyed_hash, person_hash
from identity.models import (
    EndReason,
    IdentityProvider,
    Municipality,
    User,
    Verification,
    VerificationMethod,
)

TOKYO = ZoneInfo("Asia/Tokyo")

REASONS: dict[str, Promise] = {
    "eligible": _("You may take part."),
    "not_signed_in": _("Please sign in, then verify that you live here."),
    "not_verified": _(
        "Please verify that you live here first: with the municipal ID, by matching the resident "
        "register, or at the counter of the city office."
    ),
    "verification_expired": _(
        "Your resident verification has expired. Please renew it on the “My verification” page."
    ),
    "verification_revoked": _(
        "Your resident verification was withdrawn by the city office. Please contact the counter."
    ),
    "not_resident": _(
        "This is only for residents of this municipality (on the date the rule sets). If you have "
        "moved here, please verify your new address."
    ),
    # Said without the rule only where the rule is unknown; see `reason_message`.
    "under_age": _("You do not meet the age requirement for this."),
    "method_not_accepted": _(
        "This needs a stronger verification than the one you have. Please verify with the "
        "municipal ID or at the counter."
    ),
}

# The same refusals for a municipality that has no identity provider: they must not send people
# to a municipal ID that does not exist there.
REASONS_WITHOUT_OIDC: dict[str, Promise] = {
    "not_verified": _(
        "Please verify that you live here first: by matching the resident register, or at the "
        "counter of the city office."
    ),
    "method_not_accepted": _(
        "This needs a stronger verification than the one you have. Please verify at the counter "
        "of the city office."
    ),
}

# The age rule itself, stated: the same words before, during and after the act (a finished
# election must not promise "not yet").
AGE_RULE = _("This is for people aged %(min_age)s or older.")


def _reason_text(code: str, min_age: int | None, oidc_offered: bool) -> str:
    if code == "under_age" and min_age is not None:
        return str(AGE_RULE) % {"min_age": min_age}
    if not oidc_offered and code in REASONS_WITHOUT_OIDC:
        return str(REASONS_WITHOUT_OIDC[code])
    return str(REASONS[code])


def reason_message(code: str, *, min_age: int | None = None, oidc_offered: bool = True) -> Promise:
    """The plain-language reason for `code`, stating the minimum age when the refusal is about
    age and the rule is known, and naming the municipal ID only where there is one; lazy, so it
    is worded in the language of whoever reads it."""
    # django-stubs type lazy()'s result as the wrapped type; at run time it is a Promise.
    return cast(Promise, lazy(_reason_text, str)(code, min_age, oidc_offered))


AGE_BRACKETS = (
    (18, "under_18"),
    (20, "18-19"),
    (30, "20-29"),
    (40, "30-39"),
    (50, "40-49"),
    (60, "50-59"),
    (70, "60-69"),
    (80, "70-79"),
)


@dataclass(frozen=True)
class EligibilityRule:
    """What an act requires. Built by proposals, debates and elections from their own settings."""

    min_age: int | None = 18
    residence_required: bool = True
    methods: Collection[str] = field(default_factory=lambda: frozenset(VerificationMethod.values))
    register_date: date | None = None


@dataclass(frozen=True)
class Eligibility:
    """The answer, with only the facts an act may record: never names, birthdates or addresses."""

    allowed: bool
    code: str
    age_bracket: str = ""
    method: str = ""
    verification_id: int | None = None
    # Opaque and stable per person and municipality, the same whichever way they verified: lets an
    # act count a person once (online, counter and paper alike) without learning who they are.
    person_key: str = ""
    # The rule's minimum age, kept on an `under_age` refusal so the message can state it.
    min_age: int | None = None
    # Whether the municipality has an identity provider to send a refused person to.
    oidc_offered: bool = True

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def message(self) -> Promise:
        return reason_message(self.code, min_age=self.min_age, oidc_offered=self.oidc_offered)


def act_date(at: datetime) -> date:
    """The calendar date of an act, in Japan."""
    return at.astimezone(TOKYO).date()


def legal_age(birth_date: date, on: date) -> int:
    """Age on `on`, counting the new year of age from the day before the birthday anniversary."""
    day_after = on + timedelta(days=1)
    before_anniversary = (day_after.month, day_after.day) < (birth_date.month, birth_date.day)
    return day_after.year - birth_date.year - int(before_anniversary)


def age_bracket(age: int) -> str:
    for upper, label in AGE_BRACKETS:
        if age < upper:
            return label
    return "80+"


def _refuse(code: str) -> Eligibility:
    return Eligibility(False, code)


# What the judgement reads of a verification (never the name or address).
_JUDGED_FIELDS = (
    "id",
    "user_id",
    "municipality_id",
    "method",
    "person_hash",
    "birth_date",
    "resident_since",
    "verified_at",
    "expires_at",
    "ended_at",
    "end_reason",
)


def _current_verification(candidates: list[Verification], at: datetime) -> Verification | None:
    """Of one person's verifications that had begun by `at` (in the municipality, where the rule
    requires residence): the one in force at `at`, else the latest that ended other than by
    renewal (to say why not)."""
    latest_first = sorted(candidates, key=lambda v: (v.verified_at, v.pk), reverse=True)
    for verification in latest_first:
        if verification.ended_at is None or verification.ended_at > at:
            return verification
    for verification in latest_first:
        if verification.end_reason != EndReason.RENEWED:
            return verification
    return None


def person_key(person_hash: str) -> str:
    """The opaque key an act records for a person (see `Eligibility.person_key`)."""
    return keyed_hash("act-person", person_hash)


def person_keys_of(user: User, municipality_id: int) -> set[str]:
    """Every key under which an act here may have counted this account's person: one per
    verification they ever had here (the same person verified again keeps the same key)."""
    hashes = Verification.objects.filter(user=user, municipality_id=municipality_id).values_list(
        "person_hash", flat=True
    )
    return {person_key(hashed) for hashed in set(hashes)}


def _judge(
    verification: Verification | None, verified_elsewhere: bool, at: datetime, rule: EligibilityRule
) -> Eligibility:
    if verification is None:
        return _refuse("not_resident" if verified_elsewhere else "not_verified")
    if verification.ended_at is not None and verification.ended_at <= at:
        return _refuse(
            "not_resident"
            if verification.end_reason == EndReason.MOVED_OUT
            else "verification_revoked"
        )
    if at >= verification.expires_at:
        return _refuse("verification_expired")
    if verification.method not in rule.methods:
        return _refuse("method_not_accepted")
    if rule.register_date is not None:
        since = verification.resident_since or act_date(verification.verified_at)
        if since > rule.register_date:
            return _refuse("not_resident")
    age = legal_age(verification.birth_date, act_date(at))
    if rule.min_age is not None and age < rule.min_age:
        return Eligibility(False, "under_age", min_age=rule.min_age)
    return Eligibility(
        True,
        "eligible",
        age_bracket=age_bracket(age),
        method=verification.method,
        verification_id=verification.pk,
        person_key=person_key(verification.person_hash),
    )


def eligibility_many(
    users: Sequence[User], municipality: Municipality, at: datetime, rule: EligibilityRule
) -> list[Eligibility]:
    """`eligibility` for many accounts at once (signatures arriving together, an election roll):
    one query for their verifications, one more only for those with none here."""
    ids = [user.pk for user in users]
    found = Verification.objects.filter(user_id__in=ids, verified_at__lte=at).only(*_JUDGED_FIELDS)
    if rule.residence_required:
        found = found.filter(municipality=municipality)
    by_user: dict[int, list[Verification]] = {}
    for verification in found:
        by_user.setdefault(verification.user_id, []).append(verification)
    current = {pk: _current_verification(by_user.get(pk, []), at) for pk in ids}
    unverified = [pk for pk, verification in current.items() if verification is None]
    elsewhere: set[int] = set()
    if unverified:
        elsewhere = set(
            Verification.objects.active()
            .filter(user_id__in=unverified)
            .exclude(municipality=municipality)
            .values_list("user_id", flat=True)
        )
    judged = [_judge(current[pk], pk in elsewhere, at, rule) for pk in ids]
    if any(e.code in REASONS_WITHOUT_OIDC for e in judged) and not offers_oidc(municipality):
        judged = [
            replace(e, oidc_offered=False) if e.code in REASONS_WITHOUT_OIDC else e for e in judged
        ]
    return judged


def offers_oidc(municipality: Municipality) -> bool:
    """Whether residents here can verify with a municipal ID (an identity provider is set up)."""
    return IdentityProvider.objects.filter(municipality=municipality).exists()


def eligibility(
    user: User | AnonymousUser, municipality: Municipality, at: datetime, rule: EligibilityRule
) -> Eligibility:
    if not user.is_authenticated:
        return _refuse("not_signed_in")
    assert isinstance(user, User)
    return eligibility_many([user], municipality, at, rule)[0]


def eligibility_of_person(
    person: PersonFacts, municipality: Municipality, at: datetime, rule: EligibilityRule
) -> Eligibility:
    """The same judgement for someone known from a paper form or the counter: a verified resident
    with these facts is judged as above; otherwise the current resident register must hold them."""
    from identity.models import RegisterEntry

    hashed = person_hash(person, municipality.name)
    verification = (
        Verification.objects.filter(
            municipality=municipality, person_hash=hashed, ended_at__isnull=True
        )
        .select_related("user")
        .first()
    )
    if verification is not None:
        return eligibility(verification.user, municipality, at, rule)
    entry = RegisterEntry.objects.filter(
        register__municipality=municipality, register__is_current=True, person_hash=hashed
    ).first()
    if entry is None:
        return _refuse("not_resident")
    # Judged as the verification a register match at `at` would open, so a paper signature and
    # an online one by the same person can never be judged apart.
    stand_in = Verification(
        municipality=municipality,
        method=VerificationMethod.REGISTER,
        person_hash=hashed,
        birth_date=person.birth_date,
        resident_since=entry.resident_since,
        verified_at=at,
        expires_at=at + timedelta(days=municipality.verification_valid_days),
    )
    return _judge(stand_in, False, at, rule)
