"""The election office's preparation: elections, questions, trustees, keys, freezing the roll."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.eligibility import eligibility_many
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.models import Municipality, User, Verification, VerificationMethod
from identity.permissions import require
from voting import permissions
from voting.election import election_header
from voting.election.encoding import FormatError, from_hex, to_hex
from voting.election.schnorr import SchnorrProof, public_key_error
from voting.models import Election, Question, RollEntry, RollExclusion, Status, Trustee
from voting.services.common import get_election, require_status, voter_alias

MIN_TRUSTEES = 2
# Accounts judged per eligibility query while freezing the roll.
_JUDGE_CHUNK = 2000


@dataclass(frozen=True)
class ElectionValues:
    """What the office types in; `methods` are identity.models.VerificationMethod values."""

    title: str
    opens_at: datetime
    closes_at: datetime
    explanation: str = ""
    min_age: int = 18
    register_date: date | None = None
    methods: Sequence[str] = field(default_factory=lambda: list(VerificationMethod.values))


@dataclass(frozen=True)
class QuestionValues:
    """One question: option texts in order and how many may be chosen."""

    text: str
    options: Sequence[str]
    min_selections: int = 0
    max_selections: int = 1

    @classmethod
    def yes_no(cls, text: str) -> QuestionValues:
        return cls(text, [str(_("Yes")), str(_("No"))], 1, 1)

    @classmethod
    def choose_up_to(cls, text: str, options: Sequence[str], k: int) -> QuestionValues:
        return cls(text, options, 0, k)


@dataclass(frozen=True)
class FreezeResult:
    election: Election
    roll_size: int
    excluded: int


def _check_values(values: ElectionValues) -> None:
    if not values.title.strip():
        raise InvalidInput(_("Enter a title."), code="title_required")
    if values.closes_at <= values.opens_at:
        raise InvalidInput(_("Voting must close after it opens."), code="period_invalid")
    if values.closes_at <= timezone.now():
        raise InvalidInput(_("The voting period must end in the future."), code="period_past")
    if not 0 <= values.min_age <= 150:
        raise InvalidInput(_("Enter a minimum age between 0 and 150."), code="min_age_invalid")
    methods = set(values.methods)
    if not methods or not methods <= set(VerificationMethod.values):
        raise InvalidInput(
            _("Choose at least one accepted verification method."), code="methods_invalid"
        )


def _apply(election: Election, values: ElectionValues) -> None:
    election.title = values.title.strip()[:200]
    election.explanation = values.explanation.strip()
    election.opens_at = values.opens_at
    election.closes_at = values.closes_at
    election.min_age = values.min_age
    election.register_date = values.register_date
    election.methods = sorted(set(values.methods))


def _audit_data(election: Election) -> dict[str, Any]:
    return {
        "title": election.title,
        "opens_at": election.opens_at.isoformat(),
        "closes_at": election.closes_at.isoformat(),
        "min_age": election.min_age,
        "register_date": election.register_date,
        "methods": election.methods,
    }


@transaction.atomic(durable=True)
def election_create(*, actor: User, municipality: Municipality, values: ElectionValues) -> Election:
    require(permissions.can_manage_elections(actor, municipality))
    _check_values(values)
    election = Election(municipality=municipality, created_by=actor)
    _apply(election, values)
    election.save(force_insert=True)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.create",
        target=election,
        data=_audit_data(election),
    )
    return election


@transaction.atomic(durable=True)
def election_update(
    *, actor: User, municipality: Municipality, election_id: int, values: ElectionValues
) -> Election:
    """Draft only: everything in the election hash is fixed by freezing."""
    require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.DRAFT)
    _check_values(values)
    _apply(election, values)
    election.updated_at = timezone.now()
    election.save(
        update_fields=[
            "title",
            "explanation",
            "opens_at",
            "closes_at",
            "min_age",
            "register_date",
            "methods",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.update",
        target=election,
        data=_audit_data(election),
    )
    return election


def _check_question(index: int, q: QuestionValues) -> list[str]:
    options = [o.strip() for o in q.options]
    where = index + 1
    if not q.text.strip():
        raise InvalidInput(
            _("Question %(n)s: enter the question.") % {"n": where}, code="question_invalid"
        )
    if len(options) < 2 or any(not o for o in options):
        raise InvalidInput(
            _("Question %(n)s: give at least two options, none empty.") % {"n": where},
            code="question_invalid",
        )
    if len(set(options)) != len(options):
        raise InvalidInput(
            _("Question %(n)s: two options have the same text.") % {"n": where},
            code="question_invalid",
        )
    if not (0 <= q.min_selections <= q.max_selections <= len(options) and q.max_selections >= 1):
        raise InvalidInput(
            _("Question %(n)s: the number of choices allowed is impossible.") % {"n": where},
            code="question_invalid",
        )
    return options


@transaction.atomic(durable=True)
def questions_set(
    *,
    actor: User,
    municipality: Municipality,
    election_id: int,
    questions: Sequence[QuestionValues],
) -> list[Question]:
    """Replace the election's questions (draft only). Ids are q1, q2, …; options o1, o2, … (or
    yes/no for a yes/no question)."""
    require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.DRAFT)
    if not questions:
        raise InvalidInput(_("Add at least one question."), code="question_invalid")
    if len(questions) > 20:
        raise InvalidInput(_("An election has at most 20 questions."), code="question_invalid")
    rows = []
    for i, q in enumerate(questions):
        options = _check_question(i, q)
        yes_no = q.min_selections == q.max_selections == 1 and len(options) == 2
        ids = ["yes", "no"] if yes_no else [f"o{k + 1}" for k in range(len(options))]
        rows.append(
            Question(
                election=election,
                position=i,
                qid=f"q{i + 1}",
                text=q.text.strip(),
                options=[{"id": oid, "text": text} for oid, text in zip(ids, options, strict=True)],
                min_selections=q.min_selections,
                max_selections=q.max_selections,
            )
        )
    Question.objects.filter(election=election).delete()
    created = Question.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.questions_set",
        target=election,
        data={"questions": [q.to_json() for q in created]},
    )
    return created


@transaction.atomic(durable=True)
def trustee_appoint(
    *, actor: User, municipality: Municipality, election_id: int, email: str
) -> Trustee:
    """Appoint a person with an account as trustee (draft only)."""
    require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.DRAFT)
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise NotFound(_("No account with this e-mail address."), code="user_not_found")
    taken = set(Trustee.objects.filter(election=election).values_list("tid", flat=True))
    number = 1
    while f"t{number}" in taken:
        number += 1
    trustee = Trustee(election=election, user=user, tid=f"t{number}")
    try:
        with transaction.atomic():
            trustee.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This person is already a trustee."), code="already_trustee") from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.trustee_appoint",
        target=trustee,
        data={"election": election.pk, "trustee": trustee.tid, "user": user.pk},
    )
    return trustee


@transaction.atomic(durable=True)
def trustee_remove(
    *, actor: User, municipality: Municipality, election_id: int, trustee_id: int
) -> None:
    require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.DRAFT)
    trustee = Trustee.objects.filter(election=election, pk=trustee_id).first()
    if trustee is None:
        raise NotFound(_("No such trustee."), code="not_found")
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.trustee_remove",
        target=election,
        data={"trustee": trustee.tid, "user": trustee.user_id},
    )
    trustee.delete()


def check_key_upload(upload: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The trustee tool's {"public_key", "pok"}: the spec's check 2 for one key, by the library.
    Returns the public key and proof as the record will write them; raises InvalidInput naming
    what is wrong."""
    try:
        public = from_hex(upload.get("public_key"), "public_key")
        proof = SchnorrProof.from_json(upload.get("pok"))
    except (FormatError, AttributeError) as exc:
        raise InvalidInput(
            _("This is not a key from the trustee tool: %(problem)s") % {"problem": exc},
            code="key_invalid",
        ) from None
    problem = public_key_error(public, proof)
    if problem:
        raise InvalidInput(
            _("The key was refused: %(problem)s.") % {"problem": problem}, code="key_invalid"
        )
    return to_hex(public), proof.to_json()


@transaction.atomic(durable=True)
def trustee_key_upload(
    *, actor: User, municipality: Municipality, election_id: int, upload: Mapping[str, Any]
) -> Trustee:
    """A trustee uploads the public part printed by `python -m voting.trustee keygen`. The
    Schnorr proof is checked; a secret key is never accepted (it is refused if present)."""
    election = get_election(election_id, municipality, lock=True)
    trustee = Trustee.objects.filter(election=election, user=actor).first()
    if trustee is None:
        raise PermissionDenied(_("You are not a trustee of this election."), code="not_trustee")
    require_status(election, Status.DRAFT)
    if not isinstance(upload, Mapping):
        raise InvalidInput(_("Upload the JSON printed by the trustee tool."), code="key_invalid")
    if "secret_key" in upload or "sealed_secret_key" in upload:
        raise InvalidInput(
            _(
                "This file contains your secret key. Never upload it: upload only the public part "
                "that keygen printed."
            ),
            code="secret_key_uploaded",
        )
    public_key, pok = check_key_upload(upload)
    if (
        Trustee.objects.filter(election=election, public_key=public_key)
        .exclude(pk=trustee.pk)
        .exists()
    ):
        raise Conflict(
            _("Another trustee uploaded this same key. Each trustee makes their own."),
            code="key_duplicate",
        )
    trustee.public_key = public_key
    trustee.pok = pok
    trustee.uploaded_at = timezone.now()
    trustee.save(update_fields=["public_key", "pok", "uploaded_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.trustee_key_upload",
        target=trustee,
        data={"election": election.pk, "trustee": trustee.tid, "public_key": public_key},
    )
    return trustee


def election_json(election: Election, questions: Sequence[Question]) -> dict[str, Any]:
    """The record's `election` object."""
    return {
        "id": str(election.uuid),
        "municipality": election.municipality.slug,
        "title": election.title,
        "opens_at": timezone.localtime(election.opens_at).isoformat(),
        "closes_at": timezone.localtime(election.closes_at).isoformat(),
        "questions": [q.to_json() for q in questions],
    }


@transaction.atomic(durable=True)
def election_freeze(*, actor: User, municipality: Municipality, election_id: int) -> FreezeResult:
    """Fix questions, keys and the voter roll, and compute the election hash.

    The roll is judged once, by the shared eligibility function at the close of voting (age on
    polling day), for every person verified in the municipality; each exclusion keeps its reason
    code for the office's report. Every voter gets an alias (keyed hash) for the public record.
    """
    require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.DRAFT)
    now = timezone.now()
    if election.closes_at <= now:
        raise Conflict(
            _("The voting period is over; change it before freezing."), code="period_past"
        )
    questions = list(Question.objects.filter(election=election).order_by("position"))
    if not questions:
        raise Conflict(_("Add the questions first."), code="no_questions")
    trustees = list(Trustee.objects.filter(election=election).order_by("tid"))
    if len(trustees) < MIN_TRUSTEES:
        raise Conflict(
            _("Appoint at least %(n)s trustees.") % {"n": MIN_TRUSTEES}, code="too_few_trustees"
        )
    if any(t.uploaded_at is None for t in trustees):
        raise Conflict(_("Every trustee must upload their public key first."), code="keys_missing")
    header = election_header(election_json(election, questions), [t.to_json() for t in trustees])

    rule = permissions.voter_rule(election)
    user_ids = (
        Verification.objects.filter(municipality=municipality)
        .values_list("user_id", flat=True)
        .distinct()
    )
    entries: list[RollEntry] = []
    exclusions: list[RollExclusion] = []
    seen: set[str] = set()
    users = list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))
    for start in range(0, len(users), _JUDGE_CHUNK):
        chunk = users[start : start + _JUDGE_CHUNK]
        decisions = eligibility_many(chunk, municipality, election.closes_at, rule)
        for user, decision in zip(chunk, decisions, strict=True):
            if not decision:
                exclusions.append(RollExclusion(election=election, user=user, code=decision.code))
            elif decision.person_key in seen:
                exclusions.append(
                    RollExclusion(election=election, user=user, code="duplicate_person")
                )
            else:
                seen.add(decision.person_key)
                entries.append(
                    RollEntry(
                        election=election,
                        user=user,
                        person_key=decision.person_key,
                        alias=voter_alias(election, decision.person_key),
                        age_bracket=decision.age_bracket,
                        method=decision.method,
                    )
                )
    RollEntry.objects.bulk_create(entries, batch_size=1000)
    RollExclusion.objects.bulk_create(exclusions, batch_size=1000)
    election.status = Status.FROZEN
    election.frozen_at = now
    election.header = header
    election.election_hash = header["election_hash"]
    election.updated_at = now
    election.save(update_fields=["status", "frozen_at", "header", "election_hash", "updated_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.freeze",
        target=election,
        data={
            "election_hash": election.election_hash,
            "roll_size": len(entries),
            "excluded": len(exclusions),
        },
    )
    return FreezeResult(election, len(entries), len(exclusions))
