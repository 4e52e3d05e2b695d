"""The phase registry and phase dates: what each kind allows, overlaps and gaps refused."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from debates import phases
from debates.models import Debate, Phase
from debates.services import PhaseSpec, phase_current, phases_set
from identity.errors import InvalidInput, PermissionDenied
from identity.models import AuditEntry, Municipality, Role, User
from tests.factories import DebateFactory, MunicipalityFactory, staff


@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("diverge", {"contribute", "comment", "react"}),
        ("converge", {"vote", "propose_statement"}),
        ("conclude", set()),
    ],
)
def test_registry_declares_actions_per_kind(kind: str, allowed: set[str]) -> None:
    for action in phases.ACTIONS:
        assert phases.phase_allows(kind, action) is (action in allowed), (kind, action)


def test_unknown_kind_or_action_allows_nothing() -> None:
    assert not phases.phase_allows("brainstorm", "contribute")
    assert not phases.phase_allows("diverge", "delete_everything")
    with pytest.raises(FrozenInstanceError):
        phases.DIVERGE.actions = frozenset()


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


@pytest.fixture
def debate(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(municipality=town, created_by=moderator)


T0 = datetime(2026, 12, 1, tzinfo=UTC)


def spec(kind: str, start_days: float, end_days: float) -> PhaseSpec:
    return PhaseSpec(kind, T0 + timedelta(days=start_days), T0 + timedelta(days=end_days))


def test_contiguous_phases_are_saved_in_order(debate: Debate, moderator: User) -> None:
    created = phases_set(
        actor=moderator,
        debate_id=debate.pk,
        phases=[spec("diverge", 0, 14), spec("converge", 14, 28), spec("conclude", 28, 35)],
    )
    assert [p.kind for p in created] == ["diverge", "converge", "conclude"]
    assert list(debate.phases.values_list("kind", flat=True)) == [
        "diverge",
        "converge",
        "conclude",
    ]
    assert phase_current(debate, T0 + timedelta(days=14)).kind == "converge"
    assert phase_current(debate, T0 + timedelta(days=13, hours=23)).kind == "diverge"
    assert phase_current(debate, T0 - timedelta(seconds=1)) is None
    assert phase_current(debate, T0 + timedelta(days=35)) is None
    assert AuditEntry.objects.filter(action="debate.phases_set", target_id=str(debate.pk)).exists()


@pytest.mark.parametrize(
    ("specs", "code"),
    [
        ([spec("diverge", 0, 14), spec("converge", 13, 28)], "phase_overlap"),
        ([spec("diverge", 0, 14), spec("converge", 15, 28)], "phase_gap"),
        ([spec("diverge", 0, 14), spec("converge", 0, 14)], "phase_overlap"),
        ([spec("diverge", 14, 14)], "phase_ends_before_start"),
        ([spec("diverge", 14, 10)], "phase_ends_before_start"),
        ([spec("brainstorm", 0, 1)], "phase_kind_unknown"),
    ],
)
def test_bad_phase_lists_are_refused_and_change_nothing(
    debate: Debate, moderator: User, specs: list[PhaseSpec], code: str
) -> None:
    phases_set(actor=moderator, debate_id=debate.pk, phases=[spec("diverge", 0, 7)])
    before = list(debate.phases.values_list("pk", "kind", "starts_at", "ends_at"))
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as refused:
        phases_set(actor=moderator, debate_id=debate.pk, phases=specs)
    assert refused.value.code == code
    assert list(debate.phases.values_list("pk", "kind", "starts_at", "ends_at")) == before
    assert AuditEntry.objects.count() == audits


def test_database_refuses_a_phase_ending_before_it_starts(debate: Debate) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Phase.objects.create(debate=debate, kind="diverge", starts_at=T0, ends_at=T0)


def test_only_moderators_set_phases(town: Municipality, debate: Debate) -> None:
    other_town = MunicipalityFactory()
    outsider = staff(other_town, Role.MODERATOR)
    with pytest.raises(PermissionDenied) as refused:
        phases_set(actor=outsider, debate_id=debate.pk, phases=[spec("diverge", 0, 7)])
    assert refused.value.code == "not_moderator"
    assert not debate.phases.exists()
