"""Exponential ElGamal over the spec's group."""

from __future__ import annotations

from voting.election.group import P, g_pow
from voting.election.model import Ciphertext, ElectionContext


def encrypt(ctx: ElectionContext, message: int, rho: int) -> Ciphertext:
    """(g^rho, g^m * y^rho): exponential so that multiplying ciphertexts adds votes."""
    return Ciphertext(g_pow(rho), g_pow(message) * ctx.y_pow(rho) % P)
