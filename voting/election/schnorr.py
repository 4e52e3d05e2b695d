"""Schnorr proof that a trustee knows the secret behind its public key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voting.election.arith import powmod
from voting.election.encoding import FormatError, from_hex, to_hex
from voting.election.group import P, Q, g_pow, is_member
from voting.election.hashing import fs_hash
from voting.election.rng import RandomSource, SecureRandom


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    commitment: int
    challenge: int
    response: int

    def to_json(self) -> dict[str, str]:
        return {
            "commitment": to_hex(self.commitment),
            "challenge": to_hex(self.challenge),
            "response": to_hex(self.response),
        }

    @classmethod
    def from_json(cls, obj: object) -> SchnorrProof:
        if not isinstance(obj, Mapping):
            raise FormatError("pok is not an object")
        return cls(
            from_hex(obj.get("commitment"), "commitment"),
            from_hex(obj.get("challenge"), "challenge"),
            from_hex(obj.get("response"), "response"),
        )


def prove_knowledge(secret: int, public: int, rng: RandomSource | None = None) -> SchnorrProof:
    w = (rng or SecureRandom()).draw()
    commitment = g_pow(w)
    c = fs_hash("pok", public, commitment)
    return SchnorrProof(commitment, c, (w + c * secret) % Q)


def public_key_error(public: int, proof: SchnorrProof) -> str | None:
    """Spec check 2 for one trustee key; None when it holds."""
    if not 1 < public < P:
        return "public key out of range"
    if not is_member(public):
        return "public key is not in the order-q subgroup"
    c = fs_hash("pok", public, proof.commitment)
    if proof.challenge != c:
        return "proof of knowledge: challenge is not H(pok, y, commitment)"
    if g_pow(proof.response) != proof.commitment * powmod(public, c, P) % P:
        return "proof of knowledge: g^response != commitment * y^c"
    return None


def public_key_json(public: int, proof: SchnorrProof) -> dict[str, Any]:
    """What a trustee uploads: {"public_key", "pok"}."""
    return {"public_key": to_hex(public), "pok": proof.to_json()}
