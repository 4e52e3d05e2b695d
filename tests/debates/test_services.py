"""Debate services: taking part per phase and eligibility, comments, reactions, moderation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from debates import permissions
from debates.models import Comment, Contribution, Debate, Report
from debates.services import (
    DebateDraft,
    PhaseSpec,
    comment_add,
    content_hide,
    contribution_add,
    debate_create,
    phases_set,
    reaction_toggle,
    report_file,
    report_resolve,
)
from identity.errors import Conflict, InvalidInput, PermissionDenied
from identity.models import AuditEntry, Municipality, Role, User
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    UserFactory,
    enable_totp,
    staff,
    verified,
)


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


@pytest.fixture
def debate(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge", "conclude")
    )


@pytest.fixture
def resident(town: Municipality) -> User:
    return verified(town)


def test_debate_create_needs_the_moderator_role_and_is_audited(town: Municipality) -> None:
    with pytest.raises(PermissionDenied) as refused:
        debate_create(actor=verified(town), municipality=town, draft=DebateDraft(question="?"))
    assert refused.value.code == "role_required"
    moderator = staff(town, Role.MODERATOR)
    helper = UserFactory()
    debate = debate_create(
        actor=moderator,
        municipality=town,
        draft=DebateDraft(question="公園の将来", moderator_ids=[helper.pk]),
    )
    assert debate.min_age == 18 and debate.residence_required
    assert permissions.can_moderate(helper, debate).code == "mfa_required"
    enable_totp(helper)  # a debate's own moderator needs two-step verification like staff
    assert permissions.can_moderate(helper, debate)
    entry = AuditEntry.objects.get(action="debate.create")
    assert entry.target_id == str(debate.pk) and entry.actor == moderator


def test_contribution_in_diverge_is_audited(debate: Debate, resident: User) -> None:
    contribution = contribution_add(
        actor=resident, debate_id=debate.pk, body="  屋台を出したい  ", category="にぎわい"
    )
    assert contribution.body == "屋台を出したい" and contribution.title == ""
    entry = AuditEntry.objects.get(action="debate.contribution_add")
    assert entry.target_id == str(contribution.pk) and entry.data == {"debate": debate.pk}


def test_taking_part_refused_outside_phases(
    town: Municipality, moderator: User, resident: User
) -> None:
    debate = debate_create(actor=moderator, municipality=town, draft=DebateDraft(question="?"))
    later = timezone.now() + timedelta(days=3)
    phases_set(
        actor=moderator,
        debate_id=debate.pk,
        phases=[PhaseSpec("diverge", later, later + timedelta(days=7))],
    )
    with pytest.raises(PermissionDenied) as refused:
        contribution_add(actor=resident, debate_id=debate.pk, body="早すぎ")
    assert refused.value.code == "phase_closed"


def test_taking_part_refused_for_an_action_the_phase_does_not_allow(
    town: Municipality, moderator: User, resident: User
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("conclude",))
    with pytest.raises(PermissionDenied) as refused:
        contribution_add(actor=resident, debate_id=debate.pk, body="遅すぎ")
    assert refused.value.code == "action_not_in_phase"
    converge = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    decision = permissions.can_take_part(resident, converge, "vote", timezone.now())
    assert decision and decision.person_key
    assert permissions.can_take_part(resident, converge, "react", timezone.now()).code == (
        "action_not_in_phase"
    )


def test_ineligible_people_are_refused_with_the_eligibility_code(
    town: Municipality, moderator: User, debate: Debate
) -> None:
    today = timezone.localdate()
    minor = verified(town, birth=date(today.year - 17, 7, 1))
    with pytest.raises(PermissionDenied) as refused:
        contribution_add(actor=minor, debate_id=debate.pk, body="高校生の意見")
    assert refused.value.code == "under_age"
    with pytest.raises(PermissionDenied) as refused:
        contribution_add(actor=UserFactory(), debate_id=debate.pk, body="未確認")
    assert refused.value.code == "not_verified"
    outsider = verified(MunicipalityFactory())
    with pytest.raises(PermissionDenied) as refused:
        contribution_add(actor=outsider, debate_id=debate.pk, body="よそ者")
    assert refused.value.code == "not_resident"
    assert not Contribution.objects.exists()
    # The debate's own rule: any verified resident.
    open_debate = DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge",), min_age=0
    )
    assert contribution_add(actor=minor, debate_id=open_debate.pk, body="参加できた")


def test_comments_go_two_levels_deep(debate: Debate, resident: User) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="案")
    top = comment_add(actor=resident, contribution_id=contribution.pk, body="賛成")
    reply = comment_add(
        actor=resident, contribution_id=contribution.pk, body="理由は？", parent_id=top.pk
    )
    assert reply.parent == top
    with pytest.raises(InvalidInput) as refused:
        comment_add(
            actor=resident, contribution_id=contribution.pk, body="深すぎ", parent_id=reply.pk
        )
    assert refused.value.code == "too_deep"
    with pytest.raises(InvalidInput):
        comment_add(actor=resident, contribution_id=contribution.pk, body="   ")
    assert Comment.objects.count() == 2
    assert AuditEntry.objects.filter(action="debate.comment_add").count() == 2


def test_reactions_are_idempotent(debate: Debate, resident: User) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="案")
    assert reaction_toggle(actor=resident, contribution_id=contribution.pk) is True
    assert reaction_toggle(actor=resident, contribution_id=contribution.pk) is False
    assert contribution.reactions.count() == 1
    assert reaction_toggle(actor=resident, contribution_id=contribution.pk, on=False) is True
    assert reaction_toggle(actor=resident, contribution_id=contribution.pk, on=False) is False
    assert contribution.reactions.count() == 0
    actions = list(
        AuditEntry.objects.filter(action__startswith="debate.reaction").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["debate.reaction_add", "debate.reaction_remove"]


def test_moderator_hides_with_a_reason(debate: Debate, resident: User, moderator: User) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="広告です")
    with pytest.raises(PermissionDenied) as refused:
        content_hide(actor=resident, target=contribution, reason="嫌い")
    assert refused.value.code == "not_moderator"
    with pytest.raises(InvalidInput):
        content_hide(actor=moderator, target=contribution, reason=" ")
    content_hide(actor=moderator, target=contribution, reason="宣伝")
    contribution.refresh_from_db()
    assert contribution.is_hidden and contribution.hidden_by == moderator
    with translation.override("en"):
        assert contribution.hidden_notice() == "hidden by moderator: 宣伝"
    assert contribution.hidden_notice() == "モデレーターにより非表示：宣伝"  # Japanese by default
    with pytest.raises(Conflict):
        content_hide(actor=moderator, target=contribution, reason="again")
    with pytest.raises(Conflict) as refused:
        comment_add(actor=resident, contribution_id=contribution.pk, body="?")
    assert refused.value.code == "hidden"
    assert AuditEntry.objects.get(action="debate.contribution_hide").data["reason"] == "宣伝"


def test_report_duplicate_and_resolution(
    debate: Debate, resident: User, moderator: User, town: Municipality
) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="案")
    comment = comment_add(actor=resident, contribution_id=contribution.pk, body="暴言")
    reporter = UserFactory()  # any signed-in user, verified or not
    report = report_file(actor=reporter, target=comment, reason="暴言です")
    with pytest.raises(Conflict) as refused:
        report_file(actor=reporter, target=comment, reason="もう一度")
    assert refused.value.code == "already_reported"
    other = report_file(actor=reporter, target=contribution, reason="重複")
    assert set(Report.objects.open()) == {report, other}
    report_resolve(actor=moderator, report_id=other.pk)
    with pytest.raises(Conflict):
        report_resolve(actor=moderator, report_id=other.pk)
    # Once resolved, the same person may report again.
    assert report_file(actor=reporter, target=contribution, reason="まだ重複")
    content_hide(actor=moderator, target=comment, reason="暴言")
    report.refresh_from_db()
    assert report.resolved_at is not None and report.resolved_by == moderator
    assert AuditEntry.objects.filter(action="debate.report_file").count() == 3
    assert AuditEntry.objects.filter(action="debate.report_resolve").count() == 1
    assert AuditEntry.objects.filter(action="debate.comment_hide").count() == 1


def test_moderator_of_another_municipality_cannot_moderate(debate: Debate, resident: User) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="案")
    report = report_file(actor=resident, target=contribution, reason="?")
    elsewhere = staff(MunicipalityFactory(), Role.MODERATOR)
    assert permissions.can_moderate(elsewhere, debate).code == "not_moderator"
    with pytest.raises(PermissionDenied):
        content_hide(actor=elsewhere, target=contribution, reason="越権")
    with pytest.raises(PermissionDenied):
        report_resolve(actor=elsewhere, report_id=report.pk)
    contribution.refresh_from_db()
    assert not contribution.is_hidden


def test_municipal_moderator_needs_two_step_verification(
    debate: Debate, town: Municipality
) -> None:
    no_mfa = staff(town, Role.MODERATOR, mfa=False)
    assert permissions.can_moderate(no_mfa, debate).code == "mfa_required"
