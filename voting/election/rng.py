"""Sources of random exponents in [0, q).

Production code draws from `secrets`; test vectors use the contract's deterministic
stream so the Python and JavaScript encoders can be compared byte for byte.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol

from voting.election.group import Q


class RandomSource(Protocol):
    def draw(self) -> int:
        """Next integer in [0, q)."""
        ...


class SecureRandom:
    def draw(self) -> int:
        return secrets.randbelow(int(Q))


class TestStream:
    """draw_k = SHA-256("mebuku-test-rng|" + seed + "|" + decimal(k)) mod q, k = 0, 1, ...

    Never use for real ballots: anyone who knows the seed can decrypt.
    """

    __test__ = False  # not a pytest class

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.k = 0

    def draw(self) -> int:
        digest = hashlib.sha256(f"mebuku-test-rng|{self.seed}|{self.k}".encode()).digest()
        self.k += 1
        return int.from_bytes(digest, "big") % int(Q)
