"""Trustee key pairs (the secret half lives only in the trustee's key file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voting.election.group import g_pow
from voting.election.rng import RandomSource, SecureRandom
from voting.election.schnorr import SchnorrProof, prove_knowledge, public_key_json


@dataclass(frozen=True)
class TrusteeKey:
    secret: int
    public: int

    def __repr__(self) -> str:  # keeps the secret out of logs and tracebacks
        return f"TrusteeKey(public={int(self.public):x})"

    def proof(self, rng: RandomSource | None = None) -> SchnorrProof:
        return prove_knowledge(self.secret, self.public, rng)

    def upload_json(self, rng: RandomSource | None = None) -> dict[str, Any]:
        """{"public_key", "pok"} -- the only part a trustee ever sends."""
        return public_key_json(self.public, self.proof(rng))


def generate_key(rng: RandomSource | None = None) -> TrusteeKey:
    source = rng or SecureRandom()
    secret = 0
    while secret == 0:  # y = 1 would be rejected by check 2
        secret = source.draw()
    return TrusteeKey(secret, g_pow(secret))
