"""Fixed-base exponentiation with a byte-wise comb table.

g and the joint key are raised to fresh exponents thousands of times (encryption, proof
construction); with rows[i][d] = base^(d * 256^i) a 256-bit power costs 31 multiplications
instead of ~300, about 5x faster than gmpy2.powmod, for 2 MB of table per base.
"""

from __future__ import annotations

from voting.election.arith import num, powmod
from voting.election.group import P, Q


class FixedBase:
    def __init__(self, base: int, modulus: int = P, order: int = Q) -> None:
        self.base = num(base)
        self.modulus = num(modulus)
        self.order = int(order)
        self.width = (self.order.bit_length() + 7) // 8
        m = self.modulus
        rows: list[list[int]] = []
        row_base = self.base
        for _ in range(self.width):
            row = [num(1), row_base]
            for _ in range(254):
                row.append(row[-1] * row_base % m)
            rows.append(row)
            row_base = row[-1] * row_base % m  # base^(256^(i+1))
        self.rows = rows

    def pow(self, exp: int) -> int:
        e = int(exp)
        if e < 0 or e >= self.order:
            # Valid only because the base has order dividing `order`.
            e %= self.order
        m = self.modulus
        acc = num(1)
        for row, digit in zip(self.rows, e.to_bytes(self.width, "little"), strict=True):
            if digit:
                acc = acc * row[digit] % m
        return acc


def table_check(table: FixedBase, exp: int) -> bool:
    """Cross-check against plain exponentiation (used by tests)."""
    return int(table.pow(exp)) == int(powmod(table.base, int(exp) % table.order, table.modulus))
