"""Demo elections (README): per municipality, one finished election with its published record and
one open election the demo residents can vote in.

Everything goes through the real services (permission checks included). Trustee keys are made
with the election library from public, documented seeds, so `manage.py demo_trustee_key` can
hand the demo trustees their key files; demo ballots are encrypted with the library's Python
twin of the browser encoder. Never use seeded keys or ballots for a real election.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from identity.demo import DEMO_PASSWORD
from identity.errors import Conflict
from identity.models import Municipality, User
from voting import selectors, services
from voting.election import ElectionContext, TrusteeKey, encrypt_ballot, generate_key
from voting.election.rng import TestStream
from voting.models import Election, RollEntry, Status
from voting.services import QuestionValues
from voting.trustee import decrypt_tally

FINISHED_TITLE = "市民投票（デモ）：中央図書館の建て替え"
OPEN_TITLE = "市民投票（デモ）：駅前広場の再整備"
TRUSTEES = (("trustee1", "選挙管理委員 一"), ("trustee2", "選挙管理委員 二"))

FINISHED_QUESTIONS = [
    QuestionValues.yes_no("中央図書館を建て替えることに賛成ですか。"),
    QuestionValues.choose_up_to(
        "新しい図書館に欲しいものを二つまで選んでください。",
        ["静かな学習室", "子どもの本のコーナー", "カフェ", "郷土資料の展示"],
        2,
    ),
]
OPEN_QUESTIONS = [
    QuestionValues.yes_no("駅前広場に屋根付きの広場を整備することに賛成ですか。"),
    QuestionValues.choose_up_to(
        "広場で一番したいことを一つ選んでください。",
        ["マルシェ・朝市", "子どもの遊び場", "音楽やイベント"],
        1,
    ),
]
# resident number → selections, in the order they vote; a number twice is a re-vote.
FINISHED_VOTES: list[tuple[int, dict[str, list[str]]]] = [
    (1, {"q1": ["yes"], "q2": ["o1", "o2"]}),
    (2, {"q1": ["no"], "q2": ["o3"]}),
    (3, {"q1": ["yes"], "q2": ["o2", "o4"]}),
    (4, {"q1": ["yes"], "q2": ["o2"]}),
    (5, {"q1": ["no"], "q2": []}),
    (6, {"q1": ["yes"], "q2": ["o1", "o4"]}),
    (7, {"q1": ["yes"], "q2": ["o2", "o3"]}),
    (2, {"q1": ["yes"], "q2": ["o3"]}),  # changed their mind: only this one counts
    (8, {"q1": ["no"], "q2": ["o1"]}),
    (9, {"q1": ["yes"], "q2": ["o2"]}),
    (10, {"q1": ["yes"], "q2": ["o1", "o2"]}),
]
# In the open election residents 16–20 have voted already; 01–15 are free to try it.
OPEN_VOTES: list[tuple[int, dict[str, list[str]]]] = [
    (16, {"q1": ["yes"], "q2": ["o1"]}),
    (17, {"q1": ["no"], "q2": ["o2"]}),
    (18, {"q1": ["yes"], "q2": ["o3"]}),
    (19, {"q1": ["yes"], "q2": ["o2"]}),
    (20, {"q1": ["yes"], "q2": []}),
]


def demo_trustee_key(slug: str, which: str, number: int) -> TrusteeKey:
    """The demo trustee key `number` (1, 2) of election `which` ("finished", "open"): derived from
    a public seed, so it is *not* secret — demo only."""
    return generate_key(TestStream(f"mebuku-demo-trustee|{slug}|{which}|{number}"))


def _user(municipality: Municipality, local: str) -> User:
    return User.objects.get(email=f"{local}@{municipality.slug}.example.jp")


def _trustee_account(municipality: Municipality, local: str, name: str) -> User:
    email = f"{local}@{municipality.slug}.example.jp"
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, display_name=f"{municipality.name} {name}")
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    return user


def _prepare(
    municipality: Municipality,
    which: str,
    title: str,
    explanation: str,
    questions: list[QuestionValues],
    opens_in: timedelta,
    closes_in: timedelta,
) -> tuple[Election, list[User]]:
    office = _user(municipality, "election")
    now = timezone.now()
    election = services.election_create(
        actor=office,
        municipality=municipality,
        values=services.ElectionValues(
            title=title, explanation=explanation, opens_at=now + opens_in, closes_at=now + closes_in
        ),
    )
    services.questions_set(
        actor=office, municipality=municipality, election_id=election.pk, questions=questions
    )
    trustees = []
    for number, (local, name) in enumerate(TRUSTEES, start=1):
        user = _trustee_account(municipality, local, name)
        trustees.append(user)
        services.trustee_appoint(
            actor=office, municipality=municipality, election_id=election.pk, email=user.email
        )
        key = demo_trustee_key(municipality.slug, which, number)
        services.trustee_key_upload(
            actor=user,
            municipality=municipality,
            election_id=election.pk,
            upload=key.upload_json(
                TestStream(f"mebuku-demo-pok|{municipality.slug}|{which}|{number}")
            ),
        )
    services.election_freeze(actor=office, municipality=municipality, election_id=election.pk)
    election.refresh_from_db()
    return election, trustees


def _vote(
    municipality: Municipality, election: Election, votes: list[tuple[int, dict[str, list[str]]]]
) -> None:
    assert election.header is not None
    ctx = ElectionContext.from_record(election.header)
    for number, selections in votes:
        voter = _user(municipality, f"resident{number:02d}")
        alias = RollEntry.objects.get(election=election, user=voter).alias
        services.ballot_cast(
            actor=voter,
            municipality=municipality,
            election_id=election.pk,
            ballot_json=encrypt_ballot(ctx, alias, selections),
        )


def _audit_one(municipality: Municipality, election: Election, number: int) -> None:
    """A resident audits a ballot (Benaloh) before voting: it shows on the bulletin board."""
    assert election.header is not None
    ctx = ElectionContext.from_record(election.header)
    voter = _user(municipality, f"resident{number:02d}")
    alias = RollEntry.objects.get(election=election, user=voter).alias
    seed = f"mebuku-demo-audit|{municipality.slug}|{election.uuid}"
    selections = {"q1": ["yes"], "q2": ["o1"]}
    ballot = encrypt_ballot(ctx, alias, selections, TestStream(seed))
    replay = TestStream(seed)
    randomness = []
    for q in ctx.questions:
        rhos = []
        for _option in q.option_ids:
            rhos.append(format(replay.draw(), "x"))
            for _ in range(3):  # the option's {0,1} proof
                replay.draw()
        for _ in range(2 * (q.max_selections - q.min_selections) + 1):  # the overall proof
            replay.draw()
        randomness.append({"question": q.id, "randomness": rhos})
    services.ballot_audit(
        actor=voter,
        municipality=municipality,
        election_id=election.pk,
        ballot_json=ballot,
        randomness=randomness,
    )


def _finish(municipality: Municipality, election: Election, trustees: list[User]) -> None:
    office = _user(municipality, "election")
    services.election_close(actor=office, municipality=municipality, election_id=election.pk)
    election.refresh_from_db()
    if election.status == Status.CLOSED:  # no eager task ran (a worker will, or we do now)
        with contextlib.suppress(Conflict):
            services.tally_compute(actor=office, municipality=municipality, election_id=election.pk)
        election.refresh_from_db()
    for number, user in enumerate(trustees, start=1):
        key = demo_trustee_key(municipality.slug, "finished", number)
        factors = decrypt_tally(key, selectors.trustee_tally_request(user, election))
        services.decryption_upload(
            actor=user, municipality=municipality, election_id=election.pk, factors_json=factors
        )
    election.refresh_from_db()
    if election.status == Status.TALLIED:
        with contextlib.suppress(Conflict):
            services.election_publish(
                actor=office, municipality=municipality, election_id=election.pk
            )


def seed_municipality(municipality: Municipality) -> None:
    if not Election.objects.filter(municipality=municipality, title=FINISHED_TITLE).exists():
        election, trustees = _prepare(
            municipality,
            "finished",
            FINISHED_TITLE,
            "中央図書館（築55年）を建て替えるかどうか、市民の意見を聞く投票です（デモ）。"
            "結果と選挙記録が公開されています。記録は誰でも検証できます。",
            FINISHED_QUESTIONS,
            -timedelta(days=14),
            timedelta(minutes=1),
        )
        _audit_one(municipality, election, 3)
        _vote(municipality, election, FINISHED_VOTES)
        _finish(municipality, election, trustees)
    if not Election.objects.filter(municipality=municipality, title=OPEN_TITLE).exists():
        election, _trustees = _prepare(
            municipality,
            "open",
            OPEN_TITLE,
            "駅前広場の再整備について、市民の意見を聞く投票です（デモ）。"
            "デモの住民アカウント（resident01〜15）で投票を試せます。",
            OPEN_QUESTIONS,
            -timedelta(days=1),
            timedelta(days=30),
        )
        _vote(municipality, election, OPEN_VOTES)


def seed() -> None:
    for slug in ("maebashi", "kamakura"):
        municipality = Municipality.objects.filter(slug=slug).first()
        if municipality is not None:
            seed_municipality(municipality)
