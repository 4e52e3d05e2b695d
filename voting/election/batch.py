"""Batch verification of a chunk of ballots: proof equations and subgroup membership.

Proof equations.  Each proof entry j on a ciphertext (alpha, beta) states

    a * alpha^c * g^-r = 1        and        b * beta^c * g^(-j*c) * y^-r = 1.

Raising equation i to a fresh random 128-bit delta_i and multiplying everything gives one
product that is 1 when all hold and, if one fails, is 1 with probability <= 2^-128
(Bellare-Garay-Rabin small-exponent test) -- *provided every base lies in the order-q
subgroup*, which is what the membership batch establishes.  All alpha, beta, g and y terms
fold into one exponent per base, so a chunk costs one multi-exponentiation.

Membership.  p - 1 = 2 * 13 * 17 * 3205049 * q * (cofactor without prime factors below
10^7), so small-exponent batching of x^q = 1 is *not* sound by itself: an element of order
2 or 13 slips through a random combination with probability 1/2 or 1/13.  We therefore
(1) test each element's Jacobi symbol, which is exact for the order-2 part because 2
divides p - 1 only once, and (2) run MEMBERSHIP_ROUNDS independent tests
(prod x_i^{d_i})^q = 1 with uniform bytes d_i.  A non-trivial component of odd prime
order r survives one round with probability <= ceil(256/r)/256 <= 20/256 (r = 13), so 36
rounds leave <= 2^-132.  A round costs one multiplication per element (bucket method)
plus one exponentiation, against ~300 multiplications for checking x^q per element.

Sharing the randomness.  A commitment's small exponent delta is its 36 round bytes read as
one little-endian number (uniform in [0, 2^288)), so prod a_i^delta_i is
prod_t R_t^(256^t) where R_t is the commitments' product from membership round t: the
equation batch gets its commitment part almost for free.  Soundness is a union bound: if
some element is outside the subgroup the rounds reject except with probability 2^-132,
whatever the equation test does; if all are inside, the equation test is the plain
small-exponent test with deltas uniform over 2^288 > q, failing to notice a false
equation with probability <= 2/q.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from voting.election.arith import jacobi, num, powmod
from voting.election.group import G, P, Q
from voting.election.model import Ciphertext, ElectionContext, ProofEntry
from voting.election.multiexp import multi_exp

MEMBERSHIP_ROUNDS = 36


def plausible_member(x: int) -> bool:
    """The exact, cheap part of x^q = 1: range and Jacobi symbol (squares only)."""
    return 0 < x < P and jacobi(x, P) == 1


class ChunkBatch:
    """Proof equations and subgroup claims of many ballots, checked at once."""

    def __init__(self, ctx: ElectionContext, rounds: int = MEMBERSHIP_ROUNDS) -> None:
        self.ctx = ctx
        self.rounds = rounds
        self._ct_bases: list[int] = []  # alpha, beta of each queued ciphertext
        self._ct_exps: list[int] = []
        self._ct_digits = bytearray()
        self._commitments: list[int] = []
        self._commitment_digits = bytearray()
        self._g_exp = 0
        self._y_exp = 0

    def add_ciphertext(self, ct: Ciphertext) -> int:
        """Queue a ciphertext that passed plausible_member; returns its handle."""
        self._ct_bases += (ct.alpha, ct.beta)
        self._ct_exps += (0, 0)
        self._ct_digits += secrets.token_bytes(2 * self.rounds)
        return len(self._ct_bases) // 2 - 1

    def _add_commitment(self, x: int) -> int:
        digits = secrets.token_bytes(self.rounds)
        self._commitments.append(x)
        self._commitment_digits += digits
        return int.from_bytes(digits, "little")

    def add_range_proof(self, handles: Sequence[int], proof: Sequence[ProofEntry], lo: int) -> None:
        """Proof over the product of the queued ciphertexts `handles`, values lo, lo+1, ...

        Each entry's commitments must have passed plausible_member.  Equations:
        a * alpha^c * g^-r = 1 and b * beta^c * g^(-j*c) * y^-r = 1, weighted by the
        commitment's delta."""
        for j, e in enumerate(proof, start=lo):
            d1 = self._add_commitment(e.a)
            d2 = self._add_commitment(e.b)
            for h in handles:
                self._ct_exps[2 * h] += d1 * e.c
                self._ct_exps[2 * h + 1] += d2 * e.c
            self._g_exp -= d1 * e.r + d2 * j * e.c
            self._y_exp -= d2 * e.r

    def _round_products(self) -> list[int] | None:
        """Commitment products R_t of each round, or None when a round finds an outsider."""
        k = self.rounds
        ct_digits, cm_digits = bytes(self._ct_digits), bytes(self._commitment_digits)
        products = []
        for t in range(k):
            commitments = _bucket_product(self._commitments, cm_digits[t::k])
            everything = commitments * _bucket_product(self._ct_bases, ct_digits[t::k]) % P
            if powmod(everything, Q, P) != 1:
                return None
            products.append(commitments)
        return products

    def holds(self) -> bool:
        if not self._ct_bases and not self._commitments:
            return True
        products = self._round_products()
        if products is None:
            return False
        return self.equations_hold(products)

    def equations_hold(self, round_products: Sequence[int]) -> bool:
        # prod a_i^delta_i, delta_i = sum_t digit_t * 256^t, by Horner over the rounds.
        commitment_part = num(1)
        for product in reversed(round_products):
            for _ in range(8):
                commitment_part = commitment_part * commitment_part % P
            commitment_part = commitment_part * product % P
        rest = multi_exp(
            [*self._ct_bases, G, self.ctx.joint_public_key],
            [*(x % Q for x in self._ct_exps), self._g_exp % Q, self._y_exp % Q],
            P,
        )
        return bool(commitment_part * rest % P == 1)


# Bytes split into windows of w bits (high window first): translate() does it in C.
_WINDOW_TABLES: dict[int, list[bytes]] = {
    w: [
        bytes(((d >> shift) & ((1 << w) - 1)) for d in range(256)) for shift in range(8 - w, -1, -w)
    ]
    for w in (2, 4, 8)
}


def _window_bits(n: int) -> int:
    """The window width that minimises the multiplications for n elements: each of the 8/w
    passes costs one per element plus about 2^(w+1) to combine its buckets."""
    return min((2, 4, 8), key=lambda w: (8 // w) * (n + (2 << w)))


def _bucket_product(elements: Sequence[int], digits: bytes) -> int:
    """prod x_i^{d_i} mod p for byte digits d_i, by the bucket method.

    The digits are taken w bits at a time (w of 2, 4 or 8, whichever needs the fewest
    multiplications for this many elements): prod x^d = (prod x^hi)^(2^w) * prod x^lo, so a
    small chunk does not pay for 255 buckets. The result is the same number whatever w is."""
    if len(elements) != len(digits):
        raise ValueError("one digit per element")
    one = num(1)
    w = _window_bits(len(elements))
    result = one
    for table in _WINDOW_TABLES[w]:
        if result != one:
            for _ in range(w):
                result = result * result % P
        buckets = [one] * (1 << w)
        for x, d in zip(elements, digits.translate(table), strict=True):
            if d:
                buckets[d] = buckets[d] * x % P
        running = one
        total = one
        for d in range((1 << w) - 1, 0, -1):
            bucket = buckets[d]
            if bucket is not one:
                running = running * bucket % P
            if running is not one:
                total = total * running % P
        result = result * total % P
    return result
