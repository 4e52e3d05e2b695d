"""Keyed hashes of identity keys and the normalisation that makes the same person hash the same.

The key is settings.IDENTITY_HMAC_KEY (never SECRET_KEY); without it the hashes cannot be
recomputed, so a leaked database does not reveal who is verified.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\uff0d\uff70-]")
_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|[^\s都道府県]{2,3}県)")
_KANJI_DIGITS = {
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+(?=丁目|番地|番|号)")


def keyed_hash(purpose: str, *parts: str) -> str:
    secret = settings.IDENTITY_HMAC_KEY
    if not secret:
        raise ImproperlyConfigured("MEBUKU_IDENTITY_HMAC_KEY is not set")
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _kanji_to_int(text: str) -> str:
    """二 → 2, 十二 → 12, 二十三 → 23: enough for 丁目/番地/号 in addresses."""
    if "十" not in text:
        return "".join(str(_KANJI_DIGITS[c]) for c in text)
    tens, _, ones = text.partition("十")
    value = (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (
        _KANJI_DIGITS.get(ones, 0) if ones else 0
    )
    return str(value)


def normalize_name(name: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", name)).casefold()


def normalize_address(address: str, municipality_name: str = "") -> str:
    """Make 群馬県前橋市大手町二丁目12番1号 and 大手町2-12-1 the same string."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", address))
    text = _KANJI_NUMBER.sub(lambda m: _kanji_to_int(m.group(0)), text)
    text = _PREFECTURE.sub("", text)
    if municipality_name and text.startswith(municipality_name):
        text = text[len(municipality_name) :]
    text = re.sub(r"(\d+)丁目", r"\1-", text)
    text = re.sub(r"(\d+)番地?", r"\1-", text)
    text = re.sub(r"(\d+)号", r"\1", text)
    text = re.sub(r"(?<=\d)" + _DASHES.pattern + r"(?=\d)", "-", text)
    return text.rstrip("-").casefold()


@dataclass(frozen=True)
class PersonFacts:
    """What every verification method learns about a person."""

    name: str
    birth_date: date
    address: str


def person_hash(person: PersonFacts, municipality_name: str) -> str:
    return keyed_hash(
        "person",
        normalize_name(person.name),
        person.birth_date.isoformat(),
        normalize_address(person.address, municipality_name),
    )


def identity_hash(method: str, key: str) -> str:
    return keyed_hash("identity", method, unicodedata.normalize("NFKC", key).strip())
