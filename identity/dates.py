"""Dates as residents and registers write them: 1990-04-01, 1990/4/1, 平成2年4月1日, H2.4.1."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

ERAS = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
# The day each era began; a date before it (or after the next began) is not a real era date.
ERA_STARTS = {
    "明治": date(1868, 1, 25),
    "大正": date(1912, 7, 30),
    "昭和": date(1926, 12, 25),
    "平成": date(1989, 1, 8),
    "令和": date(2019, 5, 1),
}

_WESTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_ERA = re.compile(
    r"^(明治|大正|昭和|平成|令和|[MTSHR])(元|\d{1,2})[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?$"
)


def parse_date(text: str) -> date:
    """Parse one date; raise ValueError with a message a clerk understands."""
    try:
        return _parse(text)
    except ValueError as error:
        if str(error).startswith(repr(text)):
            raise
        raise ValueError(f"{text!r} is not a real date ({error})") from None


def _parse(text: str) -> date:
    value = unicodedata.normalize("NFKC", text).strip().upper().replace(" ", "")
    western = _WESTERN.match(value)
    if western:
        year, month, day = (int(g) for g in western.groups())
        return date(year, month, day)
    era = _ERA.match(value)
    if era:
        name = ERA_LETTERS.get(era.group(1), era.group(1))
        year_in_era = 1 if era.group(2) == "元" else int(era.group(2))
        result = date(ERAS[name] + year_in_era - 1, int(era.group(3)), int(era.group(4)))
        names = list(ERA_STARTS)
        following = names.index(name) + 1
        if result < ERA_STARTS[name] or (
            following < len(names) and result >= ERA_STARTS[names[following]]
        ):
            raise ValueError(f"{text!r} is not a date of the {name} era")
        return result
    raise ValueError(f"{text!r} is not a date (write 1990-04-01 or 平成2年4月1日)")
