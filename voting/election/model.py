"""Value types shared by encryption, proofs and verification, with their JSON forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from voting.election.encoding import FormatError, from_hex, to_hex
from voting.election.fixed_base import FixedBase
from voting.election.group import P


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """Exponential ElGamal pair (alpha, beta) = (g^rho, g^m * y^rho) mod p."""

    alpha: int
    beta: int

    def times(self, other: Ciphertext) -> Ciphertext:
        """Component-wise product: encrypts the sum of the two plaintexts."""
        return Ciphertext(self.alpha * other.alpha % P, self.beta * other.beta % P)

    def to_json(self) -> dict[str, str]:
        return {"alpha": to_hex(self.alpha), "beta": to_hex(self.beta)}

    @classmethod
    def from_json(cls, obj: object) -> Ciphertext:
        if not isinstance(obj, Mapping):
            raise FormatError("ciphertext is not an object")
        return cls(from_hex(obj.get("alpha"), "alpha"), from_hex(obj.get("beta"), "beta"))


def product(ciphertexts: Sequence[Ciphertext]) -> Ciphertext:
    """Product of ciphertexts; the empty product is (1, 1), an encryption of 0."""
    alpha, beta = 1, 1
    for ct in ciphertexts:
        alpha, beta = alpha * ct.alpha % P, beta * ct.beta % P
    return Ciphertext(alpha, beta)


@dataclass(frozen=True, slots=True)
class ProofEntry:
    """One Chaum-Pedersen transcript: commitments (a, b), challenge c, response r."""

    a: int
    b: int
    c: int
    r: int

    def to_json(self) -> dict[str, str]:
        return {"a": to_hex(self.a), "b": to_hex(self.b), "c": to_hex(self.c), "r": to_hex(self.r)}

    @classmethod
    def from_json(cls, obj: object) -> ProofEntry:
        if not isinstance(obj, Mapping):
            raise FormatError("proof entry is not an object")
        return cls(
            from_hex(obj.get("a"), "a"),
            from_hex(obj.get("b"), "b"),
            from_hex(obj.get("c"), "c"),
            from_hex(obj.get("r"), "r"),
        )


def proof_from_json(obj: object, length: int) -> list[ProofEntry]:
    if not isinstance(obj, list):
        raise FormatError("proof is not a list")
    if len(obj) != length:
        raise FormatError(f"proof has {len(obj)} entries, expected {length}")
    return [ProofEntry.from_json(entry) for entry in obj]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    min_selections: int
    max_selections: int
    option_ids: tuple[str, ...]

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Question:
        """Accepts the record's options ([{"id", "text"}]) or the vectors' (["id"])."""
        options = obj.get("options")
        if not isinstance(options, list) or not options:
            raise FormatError("question has no options")
        ids = tuple(o["id"] if isinstance(o, Mapping) else o for o in options)
        lo, hi = obj.get("min_selections"), obj.get("max_selections")
        if not (isinstance(lo, int) and isinstance(hi, int)) or isinstance(lo, bool):
            raise FormatError("min_selections/max_selections must be integers")
        if not 0 <= lo <= hi <= len(ids):
            raise FormatError(f"question {obj.get('id')}: selections range {lo}..{hi} impossible")
        if not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
            raise FormatError(f"question {obj.get('id')}: option ids must be unique strings")
        qid = obj.get("id")
        if not isinstance(qid, str):
            raise FormatError("question id must be a string")
        return cls(qid, lo, hi, ids)


@lru_cache(maxsize=8)
def key_table(public_key: int) -> FixedBase:
    """Fixed-base table for an election key, shared by every ballot of that election."""
    return FixedBase(public_key)


@dataclass(frozen=True)
class ElectionContext:
    """What encrypting or checking a ballot needs to know about its election."""

    election_hash: str
    joint_public_key: int
    questions: tuple[Question, ...]

    def y_pow(self, exp: int) -> int:
        return key_table(int(self.joint_public_key)).pow(exp)

    @classmethod
    def from_parts(
        cls, election_hash: str, joint_public_key: str, questions: Sequence[Mapping[str, Any]]
    ) -> ElectionContext:
        qs = tuple(Question.from_json(q) for q in questions)
        if len({q.id for q in qs}) != len(qs):
            raise FormatError("question ids are not unique")
        return cls(election_hash, from_hex(joint_public_key, "joint_public_key"), qs)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ElectionContext:
        """From a record, or from anything with election, joint_public_key and election_hash."""
        return cls.from_parts(
            record["election_hash"], record["joint_public_key"], record["election"]["questions"]
        )
