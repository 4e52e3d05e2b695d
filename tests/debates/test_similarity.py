"""Similar contributions by character n-grams: Japanese without a tokenizer, and English."""

from __future__ import annotations

import pytest

from debates import similarity
from debates.models import Contribution, Debate
from identity.models import Municipality, Role, User
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    UserFactory,
    staff,
)

JAPANESE = [
    "駅前広場に屋根をつけてほしい",  # 0 ┐ roof
    "駅前の広場に屋根を付けてほしいです",  # 1 ┘
    "公園のトイレをきれいにしてください",  # 2 ┐ toilets
    "公園のトイレを綺麗にしてほしい",  # 3 ┘
    "図書館の開館時間を延ばしてほしい",  # 4   alone
    "ＢＵＳの本数を増やしてほしい",  # 5 ┐ buses (full-width letters)
    "busの本数を増やしてほしい",  # 6 ┘
]
ENGLISH = [
    "Put a roof over the station square",  # 0 ┐
    "Please put a roof over the station square.",  # 1 ┘
    "More buses in the evening",  # 2 ┐
    "more buses in the evenings, please",  # 3 ┘
    "Open the library on Sundays",  # 4   alone
]


def test_japanese_paraphrases_group_without_a_tokenizer() -> None:
    assert similarity.similar_indices(JAPANESE) == [[0, 1], [2, 3], [5, 6]]


def test_english_paraphrases_group() -> None:
    assert similarity.similar_indices(ENGLISH) == [[0, 1], [2, 3]]


def test_mixed_languages_do_not_cross() -> None:
    groups = similarity.similar_indices(JAPANESE + ENGLISH)
    assert groups == [[0, 1], [2, 3], [5, 6], [7, 8], [9, 10]]


def test_threshold_controls_how_loose_groups_are() -> None:
    assert similarity.similar_indices(JAPANESE, threshold=1.01) == []
    everything = similarity.similar_indices(JAPANESE, threshold=0.0)
    assert everything == [list(range(len(JAPANESE)))]


def test_degenerate_inputs() -> None:
    assert similarity.similar_indices([]) == []
    assert similarity.similar_indices(["ひとつ"]) == []
    assert similarity.similar_indices(["a", "b"]) == []  # no two-character n-grams
    assert similarity.similar_indices(["同じ文", "同じ文"]) == [[0, 1]]


def test_single_link_chains_are_one_group() -> None:
    chain = ["abcdefgh", "abcdefgh ijklmn", "ijklmn opqrst", "xyz uvw"]
    matrix = similarity.similarity_matrix(chain)
    threshold = float(min(matrix[0, 1], matrix[1, 2]))
    assert matrix[0, 2] < threshold  # 0 and 2 are alike only through 1
    assert similarity.group_indices(matrix, threshold) == [[0, 1, 2]]


@pytest.fixture
def debate(db: None) -> Debate:
    town: Municipality = MunicipalityFactory()
    moderator: User = staff(town, Role.MODERATOR)
    return DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))


def test_similar_groups_of_a_debate_skip_hidden_and_are_largest_first(debate: Debate) -> None:
    author = UserFactory()
    rows = [Contribution.objects.create(debate=debate, author=author, body=t) for t in JAPANESE]
    extra = Contribution.objects.create(debate=debate, author=author, body="駅前広場に屋根が欲しい")
    hidden = Contribution.objects.create(
        debate=debate,
        author=author,
        body="公園のトイレをきれいにして",
        hidden_at=extra.created_at,
        hidden_reason="重複",
    )
    groups = similarity.similar_groups(debate.pk)
    assert [[c.pk for c in g.contributions] for g in groups] == [
        [rows[0].pk, rows[1].pk, extra.pk],
        [rows[2].pk, rows[3].pk],
        [rows[5].pk, rows[6].pk],
    ]
    assert all(similarity.DEFAULT_THRESHOLD <= g.similarity <= 1 for g in groups[1:])
    assert hidden.pk not in {c.pk for g in groups for c in g.contributions}
