"""The election's life through the services: preparation, freezing, casting, re-voting, auditing,
closing, tally, decryption, publishing; and the record verifies."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.models import AuditEntry, Municipality, Role, User
from tests.factories import (
    QUESTIONS,
    ElectionFactory,
    UserFactory,
    election_values,
    staff,
    verified,
)
from tests.voting.conftest import NO, YES, Scenario, randomness_of
from voting import selectors, services
from voting.election import TrusteeKey, encrypt_ballot, verify_record
from voting.election.rng import TestStream
from voting.models import Ballot, Election, Question, RollEntry, RollExclusion, Status

pytestmark = pytest.mark.django_db


def test_office_needs_role_and_mfa(town: Municipality) -> None:
    resident = UserFactory()
    without_mfa = staff(town, Role.ELECTION_OFFICE, mfa=False)
    for actor, code in ((resident, "role_required"), (without_mfa, "mfa_required")):
        with pytest.raises(PermissionDenied) as refused:
            services.election_create(actor=actor, municipality=town, values=election_values())
        assert refused.value.code == code
    assert not Election.objects.exists()


def test_bad_values_refused_and_nothing_written(town: Municipality, office: User) -> None:
    now = timezone.now()
    for values, code in (
        (election_values(title=" "), "title_required"),
        (election_values(closes_at=now - timedelta(days=8)), "period_invalid"),
        (
            election_values(opens_at=now - timedelta(days=3), closes_at=now - timedelta(days=1)),
            "period_past",
        ),
        (election_values(methods=["carrier_pigeon"]), "methods_invalid"),
    ):
        with pytest.raises(InvalidInput) as refused:
            services.election_create(actor=office, municipality=town, values=values)
        assert refused.value.code == code
    assert not Election.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="election.").exists()


def test_questions_validated(town: Municipality, office: User) -> None:
    election = services.election_create(actor=office, municipality=town, values=election_values())
    bad = services.QuestionValues("どれ?", ["A", "A"], 0, 1)
    with pytest.raises(InvalidInput):
        services.questions_set(
            actor=office, municipality=town, election_id=election.pk, questions=[bad]
        )
    impossible = services.QuestionValues("どれ?", ["A", "B"], 0, 3)
    with pytest.raises(InvalidInput):
        services.questions_set(
            actor=office, municipality=town, election_id=election.pk, questions=[impossible]
        )
    created = services.questions_set(
        actor=office, municipality=town, election_id=election.pk, questions=QUESTIONS
    )
    assert [q.to_json()["options"][0]["id"] for q in created] == ["yes", "o1"]
    assert [(q.min_selections, q.max_selections) for q in created] == [(1, 1), (0, 2)]


def test_trustee_key_upload_checks_the_proof(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    trustee = UserFactory()
    election = services.election_create(actor=office, municipality=town, values=election_values())
    with pytest.raises(NotFound):
        services.trustee_appoint(
            actor=office, municipality=town, election_id=election.pk, email="nobody@example.jp"
        )
    services.trustee_appoint(
        actor=office, municipality=town, election_id=election.pk, email=trustee.email
    )
    with pytest.raises(Conflict):
        services.trustee_appoint(
            actor=office, municipality=town, election_id=election.pk, email=trustee.email
        )
    upload = trustee_keys[0].upload_json()
    forged = copy.deepcopy(upload)
    forged["pok"]["response"] = format(int(forged["pok"]["response"], 16) + 1, "x")
    with pytest.raises(InvalidInput) as refused:
        services.trustee_key_upload(
            actor=trustee, municipality=town, election_id=election.pk, upload=forged
        )
    assert refused.value.code == "key_invalid"
    with pytest.raises(InvalidInput) as refused:
        services.trustee_key_upload(
            actor=trustee,
            municipality=town,
            election_id=election.pk,
            upload={**upload, "secret_key": "1234"},
        )
    assert refused.value.code == "secret_key_uploaded"
    with pytest.raises(PermissionDenied) as refused:
        services.trustee_key_upload(
            actor=UserFactory(), municipality=town, election_id=election.pk, upload=upload
        )
    assert refused.value.code == "not_trustee"
    assert election.trustees.get().uploaded_at is None
    services.trustee_key_upload(
        actor=trustee, municipality=town, election_id=election.pk, upload=upload
    )
    assert election.trustees.get().public_key == upload["public_key"]


def test_freeze_needs_two_trustees_with_keys(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    one: User = UserFactory()
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=[one], keys=trustee_keys[:1]
    )
    with pytest.raises(Conflict) as refused:
        services.election_freeze(actor=office, municipality=town, election_id=election.pk)
    assert refused.value.code == "too_few_trustees"
    two = UserFactory()
    services.trustee_appoint(
        actor=office, municipality=town, election_id=election.pk, email=two.email
    )
    with pytest.raises(Conflict) as refused:
        services.election_freeze(actor=office, municipality=town, election_id=election.pk)
    assert refused.value.code == "keys_missing"
    election.refresh_from_db()
    assert election.status == Status.DRAFT


def test_freeze_snapshots_roll_with_exclusions_and_locks_everything(scenario: Scenario) -> None:
    s = scenario
    election = s.reload()
    assert election.status == Status.FROZEN
    assert (
        election.header is not None and election.election_hash == election.header["election_hash"]
    )
    assert [t["id"] for t in election.header["trustees"]] == ["t1", "t2"]
    roll = RollEntry.objects.filter(election=election)
    assert set(roll.values_list("user", flat=True)) == {v.pk for v in s.voters}
    assert all(len(alias) == 64 for alias in roll.values_list("alias", flat=True))
    assert RollExclusion.objects.get(election=election).user == s.others["teen"]
    assert RollExclusion.objects.get(election=election).code == "under_age"
    report = selectors.roll_report(s.office, election)
    assert report.roll_size == 3 and report.exclusions_by_code == {"under_age": 1}
    with pytest.raises(PermissionDenied):
        selectors.roll_report(s.voters[0], election)

    # Frozen: questions, roll, keys and the period cannot change.
    attempts: list[Any] = [
        lambda: services.election_update(
            actor=s.office, municipality=s.town, election_id=election.pk, values=election_values()
        ),
        lambda: services.questions_set(
            actor=s.office, municipality=s.town, election_id=election.pk, questions=QUESTIONS
        ),
        lambda: services.trustee_appoint(
            actor=s.office, municipality=s.town, election_id=election.pk, email=UserFactory().email
        ),
        lambda: services.trustee_key_upload(
            actor=s.trustees[0],
            municipality=s.town,
            election_id=election.pk,
            upload=s.keys[1].upload_json(),
        ),
        lambda: services.election_freeze(
            actor=s.office, municipality=s.town, election_id=election.pk
        ),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "election_frozen"
    election.refresh_from_db()
    assert election.header["election_hash"] == election.election_hash
    assert Question.objects.filter(election=election).count() == 2
    assert roll.count() == 3


def test_voter_status_says_why(scenario: Scenario) -> None:
    s = scenario
    assert selectors.voter_status(s.voters[0], s.election).can_cast_now
    teen = selectors.voter_status(s.others["teen"], s.election)
    assert (teen.allowed, teen.code) == (False, "under_age")
    outsider = selectors.voter_status(s.others["outsider"], s.election)
    assert (outsider.allowed, outsider.code) == (False, "not_on_roll")


def test_cast_revote_and_receipt(
    scenario: Scenario, django_capture_on_commit_callbacks: Any
) -> None:
    s = scenario
    voter = s.voters[0]
    with django_capture_on_commit_callbacks(execute=True):
        first = s.cast(voter, YES)
    assert len(first.tracker) == 64 and not first.replaced_previous
    assert first.tracker in mail.outbox[-1].body
    with django_capture_on_commit_callbacks(execute=True):
        second = s.cast(voter, NO)
    assert second.replaced_previous
    ballots = Ballot.objects.filter(election=s.election).order_by("cast_at")
    assert [(b.tracker, b.superseded) for b in ballots] == [
        (first.tracker, True),
        (second.tracker, False),
    ]
    mine = selectors.my_ballot(voter, s.election)
    assert mine is not None and mine.tracker == second.tracker and mine.ballots_cast == 2
    board = selectors.bulletin_board(s.election, query=first.tracker[:10])
    assert [(r.tracker, r.superseded) for r in board.rows] == [(first.tracker, True)]
    # The board is the record of every ballot; the staff audit log names no voter's ballot.
    assert selectors.bulletin_board(s.election).count == 2
    assert not AuditEntry.objects.filter(action__startswith="ballot.").exists()
    assert not AuditEntry.objects.filter(actor=voter).exists()


def test_cast_refusals_change_nothing(scenario: Scenario) -> None:
    s = scenario
    voter, other = s.voters[0], s.voters[1]
    # Not on the roll: 403 with the reason code.
    for person, code in ((s.others["teen"], "under_age"), (s.others["outsider"], "not_on_roll")):
        with pytest.raises(PermissionDenied) as refused:
            services.ballot_cast(
                actor=person,
                municipality=s.town,
                election_id=s.election.pk,
                ballot_json=s.ballot(voter, YES),
            )
        assert refused.value.code == code
    # Someone else's ballot (copied alias) is refused.
    with pytest.raises(InvalidInput) as refused:
        services.ballot_cast(
            actor=other,
            municipality=s.town,
            election_id=s.election.pk,
            ballot_json=s.ballot(voter, YES),
        )
    assert refused.value.code == "alias_mismatch"
    # A ballot whose proof fails names the failing check.
    ballot = s.ballot(voter, YES)
    ballot["answers"][0]["choices"][0]["proof"][0]["c"] = "1"
    with pytest.raises(services.BallotRejected) as rejected:
        services.ballot_cast(
            actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=ballot
        )
    assert rejected.value.status == 422 and "check 5" in rejected.value.failures[0]
    # Too many selections: the overall proof cannot be made honestly, so forge by swapping in
    # another question's answer.
    swapped = s.ballot(voter, YES)
    swapped["answers"][1]["question"] = "q1"
    with pytest.raises(services.BallotRejected):
        services.ballot_cast(
            actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=swapped
        )
    with pytest.raises(services.BallotRejected):
        services.ballot_cast(
            actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=["nope"]
        )
    # Another municipality's election id is not found.
    from tests.factories import MunicipalityFactory

    with pytest.raises(NotFound):
        services.ballot_cast(
            actor=voter,
            municipality=MunicipalityFactory(),
            election_id=s.election.pk,
            ballot_json=s.ballot(voter, YES),
        )
    assert not Ballot.objects.exists()


def test_proof_bound_to_election(
    scenario: Scenario, town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    """A ballot made for another election (same voter alias reused) fails the range proofs."""
    s = scenario
    voter = s.voters[0]
    ballot = s.ballot(voter, YES)
    header = s.reload().header
    assert header is not None
    other_ctx = s.ctx.__class__.from_parts(
        "0" * 64, header["joint_public_key"], header["election"]["questions"]
    )
    forged = encrypt_ballot(other_ctx, ballot["alias"], YES)
    with pytest.raises(services.BallotRejected):
        services.ballot_cast(
            actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=forged
        )


def test_audit_reveals_and_blocks_cast(scenario: Scenario) -> None:
    s = scenario
    voter = s.voters[1]
    ctx = s.ctx
    alias = s.alias(voter)
    # Encrypt with a known stream so the test can reveal the same randomness the JS would.
    rng = TestStream("audit")
    ballot = encrypt_ballot(ctx, alias, YES, rng)
    replay = TestStream("audit")
    randomness = randomness_of(ctx, YES, replay)
    receipt = services.ballot_audit(
        actor=voter,
        municipality=s.town,
        election_id=s.election.pk,
        ballot_json=ballot,
        randomness=randomness,
    )
    assert receipt.selections == {"q1": ["yes"], "q2": ["o1", "o2"]}
    with pytest.raises(Conflict) as refused:
        services.ballot_cast(
            actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=ballot
        )
    assert refused.value.code == "ballot_audited"
    assert not Ballot.objects.cast().exists()
    audited = selectors.audited_ballots(s.election)
    assert [a.tracker for a in audited] == [receipt.tracker]
    # Wrong randomness: refused, nothing stored.
    other = encrypt_ballot(ctx, alias, NO)
    with pytest.raises(InvalidInput) as refused:
        services.ballot_audit(
            actor=voter,
            municipality=s.town,
            election_id=s.election.pk,
            ballot_json=other,
            randomness=randomness,
        )
    assert refused.value.code in {"audit_mismatch", "audit_invalid"}
    # A cast ballot can never be audited (its choice would be revealed).
    cast_ballot = encrypt_ballot(ctx, alias, NO, TestStream("cast"))
    services.ballot_cast(
        actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=cast_ballot
    )
    with pytest.raises(Conflict) as refused:
        services.ballot_audit(
            actor=voter,
            municipality=s.town,
            election_id=s.election.pk,
            ballot_json=cast_ballot,
            randomness=randomness_of(ctx, NO, TestStream("cast")),
        )
    assert refused.value.code == "ballot_cast"
    assert Ballot.objects.audited().count() == 1


def test_close_refuses_later_casts(scenario: Scenario) -> None:
    s = scenario
    s.cast(s.voters[0], YES)
    services.election_close(actor=s.office, municipality=s.town, election_id=s.election.pk)
    with pytest.raises(Conflict) as refused:
        s.cast(s.voters[1], YES)
    assert refused.value.code == "election_closed"


def test_beat_closes_only_when_due(scenario: Scenario) -> None:
    s = scenario
    assert services.elections_close_due() == 0
    later = s.reload().closes_at + timedelta(seconds=1)
    assert services.elections_close_due(now=later) == 0  # the service checks the real clock too
    Election.objects.filter(pk=s.election.pk).update(
        closes_at=timezone.now() - timedelta(seconds=1),
        opens_at=timezone.now() - timedelta(hours=1),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.elections_close_due() == 1
    assert s.reload().status == Status.TALLIED


def test_full_election_publishes_a_record_that_verifies(scenario: Scenario) -> None:
    s = scenario
    a, b, c = s.voters
    s.cast(a, YES)
    s.cast(b, YES)
    s.cast(b, NO)  # re-vote: only this counts
    s.cast(c, {"q1": ["yes"], "q2": ["o3"]})
    s.close_and_decrypt()
    election = s.reload()
    assert election.status == Status.PUBLISHED
    results = selectors.results_of(election)
    assert results is not None
    assert results.ballots_counted == 3 and results.roll_size == 3
    assert [[o.count for o in q.options] for q in results.questions] == [[2, 1], [1, 1, 1]]
    record = selectors.record_of(election).record
    report = verify_record(record)
    assert report.ok, report.failures
    assert [b["counted"] for b in record["ballots"]] == [True, False, True, True]
    # An altered record fails.
    tampered = copy.deepcopy(record)
    tampered["results"][0]["counts"] = [3, 0]
    assert not verify_record(tampered).ok


def test_bad_decryption_refused_with_reason(scenario: Scenario) -> None:
    s = scenario
    s.cast(s.voters[0], YES)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.election_close(actor=s.office, municipality=s.town, election_id=s.election.pk)
    election = s.reload()
    assert election.status == Status.TALLIED
    from voting.trustee import decrypt_tally

    request = selectors.trustee_tally_request(s.trustees[0], election)
    with pytest.raises(PermissionDenied):
        selectors.trustee_tally_request(s.voters[0], election)
    # Trustee 2's key used under trustee 1's name.
    wrong = decrypt_tally(s.keys[1], selectors.trustee_tally_request(s.trustees[1], election))
    wrong["trustee"] = "t1"
    with pytest.raises(InvalidInput) as refused:
        services.decryption_upload(
            actor=s.trustees[0], municipality=s.town, election_id=election.pk, factors_json=wrong
        )
    assert refused.value.code == "decryption_invalid"
    good = decrypt_tally(s.keys[0], request)
    services.decryption_upload(
        actor=s.trustees[0], municipality=s.town, election_id=election.pk, factors_json=good
    )
    with pytest.raises(Conflict):
        services.decryption_upload(
            actor=s.trustees[0], municipality=s.town, election_id=election.pk, factors_json=good
        )
    assert s.reload().status == Status.TALLIED
    with pytest.raises(Conflict) as refused:
        services.election_publish(actor=s.office, municipality=s.town, election_id=election.pk)
    assert refused.value.code == "decryptions_missing"
    assert selectors.results_of(s.reload()) is None
    with pytest.raises(NotFound):
        selectors.record_of(s.reload())


def test_roll_uses_age_on_polling_day_and_accepted_methods(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    from identity.eligibility import act_date, legal_age

    closes = timezone.now() + timedelta(days=7)
    polling_day = act_date(closes)
    birthday = polling_day.replace(year=polling_day.year - 18) + timedelta(days=1)
    turning_18 = verified(town, birth=birthday)
    assert legal_age(birthday, act_date(timezone.now())) == 17
    assert legal_age(birthday, polling_day) == 18
    trustees: list[User] = [UserFactory() for _ in range(2)]
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=trustees, keys=trustee_keys, closes_at=closes
    )
    services.election_freeze(actor=office, municipality=town, election_id=election.pk)
    assert RollEntry.objects.filter(election=election, user=turning_18).exists()

    # Only the municipal ID accepted: residents verified at the counter are left off, with why.
    strict = ElectionFactory(
        municipality=town,
        created_by=office,
        trustees=trustees,
        keys=trustee_keys,
        closes_at=closes,
        methods=["oidc"],
        title="厳格",
    )
    services.election_freeze(actor=office, municipality=town, election_id=strict.pk)
    assert not RollEntry.objects.filter(election=strict).exists()
    assert set(RollExclusion.objects.filter(election=strict).values_list("code", flat=True)) == {
        "method_not_accepted"
    }
    status = selectors.voter_status(turning_18, strict)
    assert (status.allowed, status.code) == (False, "method_not_accepted")
