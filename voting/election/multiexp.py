"""Multi-exponentiation: the product of many b_i^(e_i) mod m in one pass.

Batch verification folds a whole record's proof equations into one such product.  Two
algorithms, picked by estimated cost:

* Straus (interleaved 4-bit windows) for a handful of bases -- one ballot on receipt;
* Pippenger (bucket method, 8-bit windows) for thousands -- a chunk of a record, where
  the per-base cost drops to about one multiplication per window.
"""

from __future__ import annotations

from collections.abc import Sequence

from voting.election.arith import num


def multi_exp(bases: Sequence[int], exps: Sequence[int], modulus: int) -> int:
    if len(bases) != len(exps):
        raise ValueError("bases and exponents differ in length")
    pairs = [(b, int(e)) for b, e in zip(bases, exps, strict=True) if e]
    if not pairs:
        return num(1)
    bits = max(e.bit_length() for _, e in pairs)
    n = len(pairs)
    straus_cost = bits + n * (bits // 4 + 14)
    pippenger_cost = (bits // 8 + 1) * (n + 510) + bits
    if straus_cost <= pippenger_cost:
        return _straus(pairs, bits, num(modulus))
    return _pippenger(pairs, num(modulus))


def _straus(pairs: list[tuple[int, int]], bits: int, m: int) -> int:
    tables = []
    for base, _ in pairs:
        b = num(base) % m
        row = [num(1), b]
        for _ in range(14):
            row.append(row[-1] * b % m)
        tables.append(row)
    nibbles = (bits + 3) // 4
    acc = num(1)
    for w in range(nibbles - 1, -1, -1):
        if acc != 1:
            acc = acc * acc % m
            acc = acc * acc % m
            acc = acc * acc % m
            acc = acc * acc % m
        shift = 4 * w
        for row, (_, e) in zip(tables, pairs, strict=True):
            digit = (e >> shift) & 15
            if digit:
                acc = acc * row[digit] % m
    return acc


def _pippenger(pairs: list[tuple[int, int]], m: int) -> int:
    # Exponents go into groups of equal byte width; a group's digits for window w are then
    # the C-level slice big[w::width], which keeps the Python inner loop to one multiply.
    groups: dict[int, list[tuple[int, int]]] = {}
    for base, e in pairs:
        width = (e.bit_length() + 7) // 8
        groups.setdefault(16 if width <= 16 else max(width, 32), []).append((base, e))
    prepared = []
    for width, members in groups.items():
        width = max(width, max((e.bit_length() + 7) // 8 for _, e in members))
        big = b"".join(e.to_bytes(width, "little") for _, e in members)
        prepared.append((width, [num(b) % m for b, _ in members], big))
    windows = max(width for width, _, _ in prepared)
    one = num(1)
    acc = one
    for w in range(windows - 1, -1, -1):
        if acc != 1:
            for _ in range(8):
                acc = acc * acc % m
        buckets = [one] * 256
        for width, bases, big in prepared:
            if w >= width:
                continue
            for x, d in zip(bases, big[w::width], strict=True):
                if d:
                    buckets[d] = buckets[d] * x % m
        running = one
        window_sum = one
        for d in range(255, 0, -1):
            running = running * buckets[d] % m
            window_sum = window_sum * running % m
        acc = acc * window_sum % m
    return acc
