"""Discrete logarithm of g^k for 0 <= k <= n, by baby-step giant-step.

Counts are at most the number of counted ballots, so sqrt(n) multiplications and a
sqrt(n)-entry table suffice (about 320 each for 100,000 ballots).
"""

from __future__ import annotations

from math import isqrt

from voting.election.group import P, Q, g_pow


class SmallDiscreteLog:
    def __init__(self, bound: int) -> None:
        if bound < 0:
            raise ValueError("bound must be non-negative")
        self.bound = bound
        self.step = isqrt(bound) + 1
        self.baby: dict[int, int] = {}
        x = 1
        g = g_pow(1)
        for j in range(self.step):
            self.baby.setdefault(int(x), j)
            x = x * g % P
        self.giant = g_pow(Q - self.step)  # g^(-step)

    def find(self, target: int) -> int | None:
        """k with g^k = target and 0 <= k <= bound, else None."""
        gamma = target % P
        for i in range(self.step + 1):
            j = self.baby.get(int(gamma))
            if j is not None:
                k = i * self.step + j
                return k if k <= self.bound else None
            gamma = gamma * self.giant % P
        return None
