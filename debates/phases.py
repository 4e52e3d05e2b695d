"""The phase registry (after adhocracy4's PhaseContent): what participants may do in each kind.

Phase rows with dates live in the database (`debates.models.Phase`); what a kind *allows* lives
here, in code, so adding an action is a code change reviewed with the service that performs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CONTRIBUTE = "contribute"
COMMENT = "comment"
REACT = "react"
VOTE = "vote"
PROPOSE_STATEMENT = "propose_statement"

ACTIONS: frozenset[str] = frozenset({CONTRIBUTE, COMMENT, REACT, VOTE, PROPOSE_STATEMENT})


@dataclass(frozen=True)
class PhaseKind:
    key: str
    name: Promise
    description: Promise
    actions: frozenset[str]

    def allows(self, action: str) -> bool:
        return action in self.actions


DIVERGE = PhaseKind(
    key="diverge",
    name=_("Collect ideas"),
    description=_("Post ideas and opinions, comment on them and say what helped you think."),
    actions=frozenset({CONTRIBUTE, COMMENT, REACT}),
)
CONVERGE = PhaseKind(
    key="converge",
    name=_("Find common ground"),
    description=_(
        "Vote agree, disagree or pass on short statements, and add new statements; new "
        "statements are checked by a moderator before others see them."
    ),
    actions=frozenset({VOTE, PROPOSE_STATEMENT}),
)
CONCLUDE = PhaseKind(
    key="conclude",
    name=_("Conclusion"),
    description=_("Read only: the moderators publish a summary and an outcome."),
    actions=frozenset(),
)

REGISTRY: dict[str, PhaseKind] = {kind.key: kind for kind in (DIVERGE, CONVERGE, CONCLUDE)}
CHOICES: list[tuple[str, Promise]] = [(kind.key, kind.name) for kind in REGISTRY.values()]


def phase_kind(key: str) -> PhaseKind:
    return REGISTRY[key]


def phase_allows(kind: str, action: str) -> bool:
    """May participants do `action` in a phase of `kind`? Unknown kinds allow nothing."""
    phase = REGISTRY.get(kind)
    return phase is not None and phase.allows(action)
