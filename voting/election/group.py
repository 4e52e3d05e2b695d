"""The fixed group of the election record (spec: "Group constants") and its derivation."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING

from voting.election.arith import is_prime, num, powmod

if TYPE_CHECKING:
    from voting.election.fixed_base import FixedBase

SEED = "mebuku election group v1"

P_HEX = (
    "e6ce230861f158d2ddad71a82a0fa271a408b163fd6caa4aa016b0d1d9d3a885f732fda69a7d35522159c28298081c0b"
    "3506f228c2f52d067098d0239631dc6f51b450c4b1808a6d570ced6abe64d803921e6bd8d1aded9ab98b31597b225b53"
    "a07ecd3d87a94d06f5760e5f00aa83270729b2a1d8d3cb4f61e2693eca24266bb2139b02d966cb7196d866317f73c5b1"
    "4583070c9f7ef41e3b3898b129ec6637f60199416ff77c61bca65874e9f6c402e39727be49c33e3660228e009df86c3c"
    "b3420113917a48349dd58bb9a535aae65a03a1024caca6ff9e511440f6f50d92751b1e44e97165ad51449e39009449b9"
    "9f90a1f2219b092f8fcc3d5d942fb78b"
)
Q_HEX = "aabe9e236f803eb055a737f0d729478030aae75175224b3c8c9d37151bce2b2f"
G_HEX = (
    "b1f3075e093a3280abd9148b8706a40fc5610cd0434932eeb1309b64908c288d78e2d9d48c57b44cb2a463850731142430"
    "d530e75669c4398cd85b9b3b14975ab82e958ff8ef3256245fdeb5b828e03586d19a428d9086232e9f498579dc8288a1"
    "68892cd47745b29bc466a1a8e8dcd5e47144188d8204fb890ee83c55e99054ca66c01dd6c76dd26bd5e7eb0ac43ada2c"
    "0f33f50fb0b678606b2a0e1efd7ebd0595d15520f35787ca5670eb1e327b8e2c4fff54ca0551648a7389fd8e7cc3d6df"
    "557e5e98fe3444cbf817785123c5bb344287de8c2f7e1a2d7668093c453b56179e1100915d4123d144514ee66e875cb4"
    "e7921c7d453241af15f09a6e414688"
)

P: int = num(int(P_HEX, 16))
Q: int = num(int(Q_HEX, 16))
G: int = num(int(G_HEX, 16))

# Index of the SHAKE-256 candidate that yields p (spec: "i = 913").
P_CANDIDATE_INDEX = 913


def group_json() -> dict[str, str]:
    """The record's `group` object."""
    return {"p": P_HEX, "q": Q_HEX, "g": G_HEX}


def is_member(x: int) -> bool:
    """1 <= x < p and x has order dividing q (the spec's "order q" test x^q = 1)."""
    return 0 < x < P and powmod(x, Q, P) == 1


@cache
def g_table() -> FixedBase:
    """Precomputed powers of g, built on first use (about 20 ms) and kept per process."""
    from voting.election.fixed_base import FixedBase

    return FixedBase(G)


def g_pow(exp: int) -> int:
    return g_table().pow(exp)


@cache
def g_inverse_pow(j: int) -> int:
    """g^-j for the handful of small j that range proofs shift by."""
    return g_pow(Q - j)


# --- derivation, used by the tests to show the constants are not cooked --------------


def derive_q() -> int:
    digest = hashlib.sha256((SEED + "/q").encode()).digest()
    candidate = 2**255 + int.from_bytes(digest, "big") % 2**255
    while not is_prime(candidate):
        candidate += 1
    return candidate


def p_candidate(i: int, q: int) -> int:
    """Candidate i: SHAKE-256 output with the top bit set, moved to the class 1 mod 2q."""
    x = int.from_bytes(hashlib.shake_256(f"{SEED}/p/{i}".encode()).digest(256), "big")
    x |= 1 << 2047
    return x - ((x % (2 * q)) - 1)


def is_valid_p(candidate: int) -> bool:
    return candidate.bit_length() == 2048 and is_prime(candidate)


def derive_g(p: int, q: int) -> tuple[int, int]:
    """(h, g) for the first h >= 2 with g = h^((p-1)/q) != 1."""
    h = 2
    while True:
        g = int(powmod(h, (p - 1) // q, p))
        if g != 1:
            return h, g
        h += 1
