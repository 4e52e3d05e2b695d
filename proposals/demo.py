"""Demo proposals in every state, so a newcomer sees a living site (documented in README)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from identity.models import Municipality, User
from proposals import services
from proposals.models import Proposal, ProposalType, Signature


def _user(municipality: Municipality, local: str) -> User:
    return User.objects.get(email=f"{local}@{municipality.slug}.example.jp")


def _resident(municipality: Municipality, number: int) -> User:
    return _user(municipality, f"resident{number:02d}")


def _types(municipality: Municipality) -> tuple[ProposalType, ProposalType]:
    citizen, _ = ProposalType.objects.get_or_create(
        municipality=municipality,
        name="市民政策提案",
        defaults={
            "description": "18歳以上の市民10人以上の署名で、市に政策を提案できます。",
            "threshold_fixed": 10,
            "collection_days": 60,
            "min_age": 18,
            "accepts_online": True,
            "accepts_counter": True,
            "accepts_paper": False,
            "answer_deadline_days": 90,
        },
    )
    demand, _ = ProposalType.objects.get_or_create(
        municipality=municipality,
        name="条例制定改廃請求",
        defaults={
            "description": (
                "有権者の50分の1以上の署名で、条例の制定・改廃を請求できます（地方自治法第74条）。"
                "デモでは選挙人名簿の登録者数を500人としています。"
            ),
            "threshold_kind": "register_fraction",
            "threshold_numerator": 1,
            "threshold_denominator": 50,
            "register_size": 500,
            "register_date": timezone.localdate(),
            "collection_days": 30,
            "min_age": 18,
            "accepts_online": True,
            "accepts_counter": True,
            "accepts_paper": True,
            "committee_size": 2,
            "certification_required": True,
            "inspection_days": 7,
            "answer_deadline_days": 60,
            "signatures_withdrawable": False,
        },
    )
    return citizen, demand


def _file(
    municipality: Municipality,
    kind: ProposalType,
    author: User,
    title: str,
    summary: str,
    body: str,
    category: str,
) -> Proposal:
    return services.proposal_file(
        actor=author,
        municipality=municipality,
        type_id=kind.pk,
        draft=services.ProposalDraft(title=title, summary=summary, body=body, category=category),
    )


def _sign(municipality: Municipality, proposal: Proposal, numbers: range) -> None:
    for number in numbers:
        signer = _resident(municipality, number)
        if not Signature.objects.filter(proposal=proposal, user=signer).exists():
            services.signature_add(actor=signer, municipality=municipality, proposal_id=proposal.pk)


def _open_with_committee(
    municipality: Municipality, proposal: Proposal, members: tuple[int, int]
) -> None:
    for number in members:
        member = _resident(municipality, number)
        services.committee_invite(
            actor=proposal.author,
            municipality=municipality,
            proposal_id=proposal.pk,
            email=member.email,
        )
        services.committee_accept(actor=member, municipality=municipality, proposal_id=proposal.pk)
    services.collection_open(
        actor=proposal.author, municipality=municipality, proposal_id=proposal.pk
    )


def _backdate_and_close(proposal: Proposal, days_ago: int) -> None:
    """Demo only: move the collection period into the past, then close it as Celery beat would."""
    now = timezone.now()
    opens, closes = now - timedelta(days=days_ago + 30), now - timedelta(days=days_ago)
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=opens, collection_closes_at=closes
    )
    # The signatures move with the period, spread over it: left at "now" they were dated after
    # the close, and the chart of the period showed none of them.
    signatures = list(Signature.objects.filter(proposal=proposal).order_by("id"))
    for index, signature in enumerate(signatures, start=1):
        signature.signed_at = opens + (closes - opens) * index / (len(signatures) + 1)
    Signature.objects.bulk_update(signatures, ["signed_at"])
    services.collections_close_due()


BODY = (
    "## 現状\n{situation}\n\n## 提案\n{proposal}\n\n## 期待される効果\n- 市民の暮らしがよくなる\n"
    "- 市の取り組みが見えるようになる\n"
)


def _story(title: str) -> str:
    return BODY.format(
        situation=f"「{title}」について、多くの市民から声が寄せられています。",
        proposal=f"「{title}」の実現に向けた予算と計画を求めます。",
    )


def seed_municipality(municipality: Municipality) -> None:
    citizen, demand = _types(municipality)
    council = _user(municipality, "council")
    office = _user(municipality, "election")
    existing = set(
        Proposal.objects.filter(municipality=municipality).values_list("title", flat=True)
    )

    def once(title: str, build: Callable[[], None]) -> None:
        if title not in existing:
            build()

    def new(kind: ProposalType, author: int, title: str, summary: str, category: str) -> Proposal:
        return _file(
            municipality,
            kind,
            _resident(municipality, author),
            title,
            summary,
            _story(title),
            category,
        )

    def draft() -> None:
        new(
            citizen,
            2,
            "地域猫の不妊去勢手術への助成",
            "飼い主のいない猫を減らすため、手術費用の助成を提案します。",
            "環境",
        )

    def collecting() -> None:
        p = new(
            citizen,
            3,
            "子育て支援センターの土曜開館",
            "共働き家庭のため、子育て支援センターを土曜日も開けてください。",
            "子育て",
        )
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        _sign(municipality, p, range(4, 9))

    def reached() -> None:
        p = new(
            citizen,
            4,
            "中心市街地にベンチと日陰を",
            "高齢者が歩いて買い物できるよう、ベンチと日よけを増やしてください。",
            "まちづくり",
        )
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        _sign(municipality, p, range(5, 17))

    def submitted() -> None:
        p = new(
            citizen,
            5,
            "公共施設の無料Wi-Fi整備",
            "公民館や図書館で誰でも使える無料Wi-Fiを整備してください。",
            "デジタル",
        )
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        _sign(municipality, p, range(6, 17))
        services.collection_close_early(actor=p.author, municipality=municipality, proposal_id=p.pk)

    def under_review() -> None:
        p = new(
            citizen,
            6,
            "高齢者向け乗合タクシーの拡充",
            "バス路線のない地域に乗合タクシーを増やしてください。",
            "交通",
        )
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        _sign(municipality, p, range(7, 18))
        services.collection_close_early(actor=p.author, municipality=municipality, proposal_id=p.pk)
        services.review_start(actor=council, municipality=municipality, proposal_id=p.pk)
        services.clarification_request(
            actor=council,
            municipality=municipality,
            proposal_id=p.pk,
            question="運行を希望する地域と時間帯を教えてください。",
        )

    def answered() -> None:
        p = new(
            citizen,
            7,
            "通学路の歩道整備",
            "小学校の通学路に歩道とガードレールを整備してください。",
            "安全",
        )
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        _sign(municipality, p, range(8, 19))
        services.collection_close_early(actor=p.author, municipality=municipality, proposal_id=p.pk)
        services.review_start(actor=council, municipality=municipality, proposal_id=p.pk)
        services.proposal_answer(
            actor=council,
            municipality=municipality,
            proposal_id=p.pk,
            decision="partially_adopted",
            reasons=(
                "通学路の安全確保は重要な課題と認識しています。\n\n"
                "- 危険箇所3か所のガードレール設置を来年度予算に計上します。\n"
                "- 歩道の新設は用地取得が必要なため、地域と協議しながら段階的に進めます。"
            ),
        )

    def expired() -> None:
        p = new(
            citizen,
            8,
            "市民農園の増設",
            "市民が野菜づくりを楽しめる市民農園を増やしてください。",
            "環境",
        )
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        _sign(municipality, p, range(9, 13))
        _backdate_and_close(p, days_ago=3)

    def withdrawn() -> None:
        p = new(citizen, 9, "夜間の図書館開館", "平日夜9時まで図書館を開けてください。", "文化")
        services.collection_open(actor=p.author, municipality=municipality, proposal_id=p.pk)
        services.proposal_withdraw(actor=p.author, municipality=municipality, proposal_id=p.pk)

    def committee() -> None:
        p = new(
            demand,
            10,
            "ごみ処理手数料条例の改正",
            "家庭ごみの有料化を見直す条例改正を請求します。",
            "環境",
        )
        services.committee_invite(
            actor=p.author,
            municipality=municipality,
            proposal_id=p.pk,
            email=_resident(municipality, 11).email,
        )

    def certification() -> None:
        p = new(
            demand,
            12,
            "自転車駐輪場条例の制定",
            "駅前の放置自転車をなくすため、駐輪場条例の制定を請求します。",
            "まちづくり",
        )
        _open_with_committee(municipality, p, (13, 14))
        _sign(municipality, p, range(1, 13))
        _backdate_and_close(p, days_ago=1)
        first = Signature.objects.filter(proposal=p).order_by("id").first()
        assert first is not None
        services.signature_invalidate(
            actor=office, municipality=municipality, signature_id=first.pk, reason="duplicate"
        )
        services.certification_publish(actor=office, municipality=municipality, proposal_id=p.pk)

    def not_certified() -> None:
        p = new(
            demand,
            15,
            "公園の夜間照明条例の制定",
            "公園に夜間照明の設置基準を定める条例を請求します。",
            "安全",
        )
        _open_with_committee(municipality, p, (16, 17))
        _sign(municipality, p, range(1, 11))
        _backdate_and_close(p, days_ago=20)
        for signature in Signature.objects.filter(proposal=p).order_by("id")[:2]:
            services.signature_invalidate(
                actor=office,
                municipality=municipality,
                signature_id=signature.pk,
                reason="not_on_register",
            )
        services.certification_publish(actor=office, municipality=municipality, proposal_id=p.pk)
        Proposal.objects.filter(pk=p.pk).update(
            inspection_ends_at=timezone.now() - timedelta(days=1)
        )
        services.certification_finalize(actor=office, municipality=municipality, proposal_id=p.pk)

    once("地域猫の不妊去勢手術への助成", draft)
    once("子育て支援センターの土曜開館", collecting)
    once("中心市街地にベンチと日陰を", reached)
    once("公共施設の無料Wi-Fi整備", submitted)
    once("高齢者向け乗合タクシーの拡充", under_review)
    once("通学路の歩道整備", answered)
    once("市民農園の増設", expired)
    once("夜間の図書館開館", withdrawn)
    once("ごみ処理手数料条例の改正", committee)
    once("自転車駐輪場条例の制定", certification)
    once("公園の夜間照明条例の制定", not_certified)


def seed() -> None:
    for municipality in Municipality.objects.filter(slug__in=("maebashi", "kamakura")):
        seed_municipality(municipality)
