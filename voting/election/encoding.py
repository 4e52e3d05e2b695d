"""Integer and JSON encodings fixed by the spec ("Numbers, hashes, canonical JSON")."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from voting.election.arith import from_hex_digits

_HEX = re.compile(r"0|[1-9a-f][0-9a-f]*")

# Longest integer we accept: twice p's width.  Honest values never come close; the cap
# stops a crafted record from making the verifier exponentiate by megabit numbers.
MAX_HEX_DIGITS = 1024


class FormatError(ValueError):
    """A value in the JSON does not have the shape the spec requires."""


def to_hex(x: int) -> str:
    """Lowercase hexadecimal, no prefix, no leading zeros ("0" for zero)."""
    value = int(x)
    if value < 0:
        raise ValueError("negative integers have no encoding")
    return format(value, "x")


def from_hex(text: object, what: str = "integer") -> int:
    """Parse the spec's integer encoding strictly; anything else is a FormatError."""
    if not isinstance(text, str) or len(text) > MAX_HEX_DIGITS or not _HEX.fullmatch(text):
        raise FormatError(f"{what} is not a lowercase hex integer without leading zeros")
    return from_hex_digits(text)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
