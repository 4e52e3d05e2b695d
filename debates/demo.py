"""Demo debates, one per phase, so a newcomer sees a living debate:

- 「駅前広場をどう使う？」 collecting ideas now (contributions, comments, reactions, similar ideas
  for the moderator's merge page);
- 「公共交通の将来」 finding common ground now: statements voted on by the demo residents in two
  camps, so the report shows opinion groups, consensus and divisive statements;
- 「図書館のこれから」 concluded, with a published summary and outcome.

Everything goes through the services (permissions, audit); only the phase dates are moved into
the past afterwards, as time would have done. Idempotent: a debate whose question exists is left
alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from debates import services
from debates.models import Debate, Phase
from debates.services.opinions import opinions_deferred
from identity.models import Municipality, User

OPEN_QUESTION = "駅前広場をどう使う？"
CONVERGE_QUESTION = "公共交通の将来：何を優先すべき？"
CONCLUDED_QUESTION = "図書館のこれから"


def _user(municipality: Municipality, local: str) -> User:
    return User.objects.get(email=f"{local}@{municipality.slug}.example.jp")


def _resident(municipality: Municipality, number: int) -> User:
    return _user(municipality, f"resident{number:02d}")


def _debate(
    municipality: Municipality, moderator: User, question: str, background: str, kinds: list[str]
) -> Debate:
    """A debate whose first phase runs now (two weeks each)."""
    debate = services.debate_create(
        actor=moderator,
        municipality=municipality,
        draft=services.DebateDraft(question=question, background=background),
    )
    start = timezone.now() - timedelta(minutes=1)
    specs = []
    for kind in kinds:
        specs.append(services.PhaseSpec(kind, start, start + timedelta(days=14)))
        start += timedelta(days=14)
    services.phases_set(actor=moderator, debate_id=debate.pk, phases=specs)
    return debate


def _redate(debate: Debate, running: str) -> None:
    """Demo only: lay the phases out as if `running` had started a day ago, two weeks each
    (consecutive phases still meet exactly)."""
    rows = list(Phase.objects.filter(debate=debate).order_by("starts_at"))
    index = next(i for i, p in enumerate(rows) if p.kind == running)
    origin = timezone.now() - timedelta(days=1) - timedelta(days=14 * index)
    # Move everything far away first so the unique start dates never collide on the way.
    for offset, phase in enumerate(rows):
        Phase.objects.filter(pk=phase.pk).update(
            starts_at=origin - timedelta(days=3650 - offset),
            ends_at=origin - timedelta(days=3650 - offset) + timedelta(hours=1),
        )
    now = timezone.now()
    for offset, phase in enumerate(rows):
        starts = origin + timedelta(days=14 * offset)
        Phase.objects.filter(pk=phase.pk).update(
            starts_at=starts,
            ends_at=starts + timedelta(days=14),
            announced_at=now if starts <= now else None,
        )


IDEAS = [
    (1, "屋根のある広場に", "雨の日でも集まれるよう、駅前広場に大きな屋根をつけてほしい。"),
    (2, "", "駅前の広場に屋根を付けてほしいです。雨の日のイベントが中止にならないように。"),
    (3, "週末マルシェ", "地元の野菜や工芸品を売る週末マルシェを開けば、人が集まると思います。"),
    (4, "", "週末に地元の野菜や手作り品のマルシェを開いてほしい。"),
    (5, "ベンチと日陰", "高齢者が休めるベンチと木陰を増やしてください。"),
    (6, "駐輪場", "駅前の放置自転車が多いので、広場の一部を駐輪場にしては。"),
    (7, "子どもの遊び場", "小さな子どもが安全に遊べる噴水広場がほしい。"),
]

STATEMENTS = [
    # (text, camp A's vote, camp B's vote); camps: residents 1–10 and 11–20.
    ("バスの本数を増やすべきだ", 1, 1),
    ("高齢者の運賃を無料にすべきだ", 1, -1),
    ("赤字路線は廃止もやむを得ない", -1, 1),
    ("乗合タクシーを郊外に広げるべきだ", 1, 0),
    ("市の予算は道路整備を優先すべきだ", -1, 1),
    ("駅のバリアフリー化を急ぐべきだ", 1, 1),
    ("自転車レーンを整備すべきだ", 0, 1),
    ("バス停に屋根とベンチを設けるべきだ", 1, 1),
    ("運賃を値上げしてでも路線を守るべきだ", 1, -1),
]


def _open(municipality: Municipality, moderator: User) -> None:
    debate = _debate(
        municipality,
        moderator,
        OPEN_QUESTION,
        "駅前広場の再整備について、市民の皆さんのアイデアを募集しています。\n\n"
        "- 広さ：約2,000㎡\n- 整備予定：再来年度",
        ["diverge", "converge", "conclude"],
    )
    made = []
    for number, title, body in IDEAS:
        made.append(
            services.contribution_add(
                actor=_resident(municipality, number), debate_id=debate.pk, title=title, body=body
            )
        )
    first = services.comment_add(
        actor=_resident(municipality, 8),
        contribution_id=made[0].pk,
        body="夏の日よけにもなりますね。",
    )
    services.comment_add(
        actor=_resident(municipality, 1),
        contribution_id=made[0].pk,
        parent_id=first.pk,
        body="そうなんです。暑い日も助かると思います。",
    )
    services.comment_add(
        actor=_resident(municipality, 9), contribution_id=made[2].pk, body="出店者の募集も市で。"
    )
    for number in (5, 8, 9, 10):
        services.reaction_toggle(actor=_resident(municipality, number), contribution_id=made[0].pk)
    for number in (1, 6):
        services.reaction_toggle(actor=_resident(municipality, number), contribution_id=made[2].pk)


def _converge(municipality: Municipality, moderator: User) -> None:
    debate = _debate(
        municipality,
        moderator,
        CONVERGE_QUESTION,
        "バス路線の見直しにあたり、何を優先すべきか考えます。それぞれの文に「賛成」「反対」"
        "「パス」で答えてください。",
        ["diverge", "converge", "conclude"],
    )
    idea = services.contribution_add(
        actor=_resident(municipality, 2),
        debate_id=debate.pk,
        body="郊外のバスが減って、通院が大変です。",
    )
    services.phase_advance(actor=moderator, debate_id=debate.pk)
    statements = [
        services.statement_create_from_contributions(
            actor=moderator,
            debate_id=debate.pk,
            text=text,
            contribution_ids=[idea.pk] if i == 0 else [],
        )
        for i, (text, _a, _b) in enumerate(STATEMENTS)
    ]
    with opinions_deferred(debate.pk):
        for number in range(1, 21):
            camp_a = number <= 10
            for i, (statement, (_text, a, b)) in enumerate(
                zip(statements, STATEMENTS, strict=True)
            ):
                value = a if camp_a else b
                if (number + i) % 7 == 0:
                    value = 0  # some people pass now and then
                services.vote_cast(
                    actor=_resident(municipality, number), statement_id=statement.pk, value=value
                )
    proposed = services.statement_submit(
        actor=_resident(municipality, 4), debate_id=debate.pk, text="夜間のバスを走らせるべきだ"
    )
    del proposed  # waits in the moderation queue
    _redate(debate, "converge")


def _concluded(municipality: Municipality, moderator: User) -> None:
    debate = _debate(
        municipality,
        moderator,
        CONCLUDED_QUESTION,
        "図書館の開館時間とサービスについて話し合いました。",
        ["diverge", "converge", "conclude"],
    )
    services.contribution_add(
        actor=_resident(municipality, 3), debate_id=debate.pk, body="平日の夜も開いていてほしい。"
    )
    services.contribution_add(
        actor=_resident(municipality, 7), debate_id=debate.pk, body="電子書籍の貸し出しを。"
    )
    services.phase_advance(actor=moderator, debate_id=debate.pk)
    statements = [
        services.statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=t)
        for t in ("平日は夜8時まで開館すべきだ", "電子書籍サービスを始めるべきだ")
    ]
    with opinions_deferred(debate.pk):
        for number in range(1, 13):
            for i, statement in enumerate(statements):
                services.vote_cast(
                    actor=_resident(municipality, number),
                    statement_id=statement.pk,
                    value=1 if (number + i) % 4 else -1,
                )
    services.phase_advance(actor=moderator, debate_id=debate.pk)
    services.summary_publish(
        actor=moderator,
        debate_id=debate.pk,
        summary=(
            "## 話し合いのまとめ\n"
            "- 平日夜の開館延長には、参加者の多くが賛成しました。\n"
            "- 電子書籍サービスにも幅広い支持がありました。"
        ),
        outcome="市は来年度から、平日の開館を夜8時まで延長する試行を検討します。",
    )
    _redate(debate, "conclude")


def seed_municipality(municipality: Municipality) -> None:
    moderator = _user(municipality, "moderator")
    existing = set(
        Debate.objects.filter(municipality=municipality).values_list("question", flat=True)
    )

    def once(question: str, build: Callable[[Municipality, User], None]) -> None:
        if question not in existing:
            build(municipality, moderator)

    once(CONCLUDED_QUESTION, _concluded)
    once(CONVERGE_QUESTION, _converge)
    once(OPEN_QUESTION, _open)


def seed() -> None:
    for municipality in Municipality.objects.filter(slug__in=("maebashi", "kamakura")):
        seed_municipality(municipality)
