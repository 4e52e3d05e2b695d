"""Groups of similar contributions, so a moderator can merge them into one statement.

Character n-grams (2–3, within word boundaries: scikit-learn's ``analyzer="char_wb"``) with TF-IDF
weights and cosine similarity. Character n-grams need no tokenizer, so Japanese (no spaces between
words) works as well as English. Texts are NFKC-normalised and lower-cased first (full-width and
half-width forms compare equal). Grouping is single-link agglomeration at a similarity threshold
(union-find over the pairs at or above it), which is deterministic: groups are ordered by their
lowest item and members by input order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

if TYPE_CHECKING:
    from debates.models import Contribution

# Pairs at or above this cosine similarity are grouped. Tuned on tests/debates/test_similarity.py:
# Japanese paraphrases score about 0.45, English ones about 0.8, different topics at most 0.26.
DEFAULT_THRESHOLD = 0.35
# At most this many contributions are compared (the newest); the dense similarity matrix of
# 2,000 texts is 32 MB.
MAX_ITEMS = 2000


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def similarity_matrix(texts: Sequence[str]) -> np.ndarray:
    """Pairwise cosine similarity of the texts' character 2–3-gram TF-IDF vectors."""
    docs = [normalise(t) for t in texts]
    n = len(docs)
    if n == 0:
        return np.zeros((0, 0))
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # no text has a two-character n-gram
        return np.eye(n)
    similarity: np.ndarray = cosine_similarity(matrix, dense_output=True)
    return similarity


def group_indices(similarity: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Single-link groups (two or more members) of the pairs at or above `threshold`."""
    n = similarity.shape[0]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows, cols = np.nonzero(np.triu(similarity >= threshold, k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [members for _root, members in sorted(groups.items()) if len(members) > 1]


def similar_indices(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Groups (of two or more) of indices into `texts` whose texts are similar."""
    return group_indices(similarity_matrix(texts), threshold)


@dataclass(frozen=True)
class SimilarGroup:
    contributions: list[Contribution]  # in id order
    similarity: float  # the lowest pairwise similarity inside the group (how tight it is)


def similar_groups(debate_id: int, threshold: float = DEFAULT_THRESHOLD) -> list[SimilarGroup]:
    """Groups of similar visible contributions of a debate (title and text compared), largest
    first, then by lowest id. One query, then the computation in memory."""
    from debates.models import Contribution

    items = list(
        Contribution.objects.filter(debate_id=debate_id, hidden_at__isnull=True)
        .select_related("author")
        .order_by("-created_at", "-pk")[:MAX_ITEMS]
    )
    items.sort(key=lambda c: c.pk)
    similarity = similarity_matrix([f"{c.title} {c.body}".strip() for c in items])
    groups = []
    for members in group_indices(similarity, threshold):
        block = similarity[np.ix_(members, members)]
        tightness = float(block[np.triu_indices(len(members), k=1)].min())
        groups.append(
            SimilarGroup(contributions=[items[i] for i in members], similarity=round(tightness, 3))
        )
    groups.sort(key=lambda g: (-len(g.contributions), g.contributions[0].pk))
    return groups
