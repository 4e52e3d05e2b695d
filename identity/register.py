"""Reading a resident register CSV: decode, check every row, reduce each row to keyed hashes.

The columns are documented in docs/resident-register-csv.md. Nothing here touches the database;
`identity.services.register.register_import` stores what `parse_register` returns. Every bad row
is reported with its line number and what is wrong, so the clerk can fix the file in one go.
The plain values (names, addresses, birthdates) never leave this module: a parsed register
holds only the keyed hashes and the optional "resident since" date.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from identity.dates import parse_date
from identity.keys import PersonFacts, identity_hash, person_hash
from identity.models import VerificationMethod

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_KEY = 32
MAX_NAME = 100  # Verification.legal_name
MAX_ADDRESS = 200  # Verification.address
_SHOWN_VALUE = 40  # how much of a bad value an error message repeats

# Canonical column → header names accepted for it (compared after _header_key()).
COLUMNS: dict[str, tuple[str, ...]] = {
    "resident_key": ("住民票コード", "住民コード", "resident_key"),
    "name": ("氏名", "name"),
    "birth_date": ("生年月日", "birth_date", "date_of_birth"),
    "address": ("住所", "address"),
    "resident_since": ("住民となった日", "住民となった年月日", "resident_since"),
}
REQUIRED = ("resident_key", "name", "birth_date", "address")


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text).strip()).casefold()


_HEADER_LOOKUP = {
    _header_key(alias): column for column, names in COLUMNS.items() for alias in names
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class RowError:
    """One thing wrong with one line of the file (line 1 is the header)."""

    line: int
    code: str
    message: str
    column: str = ""


@dataclass(frozen=True, slots=True)
class RegisterRecord:
    """A row as written in the file, checked; lives only while the file is being read."""

    line: int
    resident_key: str
    name: str
    birth_date: date
    address: str
    resident_since: date | None


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """What is stored of a row: keyed hashes only."""

    line: int
    key_hash: str
    person_hash: str
    resident_since: date | None


@dataclass
class ParsedRegister:
    encoding: str = ""
    rows: list[RegisterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})


class RegisterFileError(ValueError):
    """The file as a whole cannot be read (encoding, not a CSV, no header)."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_register(data: bytes) -> tuple[str, str]:
    """The file's text and encoding: UTF-8 (with or without BOM), else Shift_JIS (CP932)."""
    if not data.strip():
        raise RegisterFileError(RowError(1, "empty", _("The file is empty.")))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise RegisterFileError(
            RowError(
                1,
                "not_csv",
                _("This is an Excel workbook, not a CSV file. Save it as CSV and upload again."),
            )
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegisterFileError(
            RowError(
                1,
                "encoding",
                _("UTF-16 files are not accepted. Save the file as UTF-8 or Shift_JIS (CP932)."),
            )
        )
    if b"\x00" in data[:4096]:
        raise RegisterFileError(
            RowError(1, "not_csv", _("This is not a text file. Upload the register as CSV."))
        )
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise RegisterFileError(_undecodable(data, error.start + 3, "UTF-8")) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932"), "cp932"
        except UnicodeDecodeError as cp932_error:
            # Name the encoding that got further: it is most likely what the file was meant to be.
            if cp932_error.start >= utf8_error.start:
                raise RegisterFileError(
                    _undecodable(data, cp932_error.start, "Shift_JIS (CP932)")
                ) from None
            raise RegisterFileError(_undecodable(data, utf8_error.start, "UTF-8")) from None


def _undecodable(data: bytes, offset: int, encoding: str) -> RowError:
    return RowError(
        _line_of(data, offset),
        "encoding",
        _(
            "The file is neither UTF-8 nor Shift_JIS (CP932) text: this line has bytes that are "
            "not valid %(encoding)s. Save the file as UTF-8 or Shift_JIS and upload again."
        )
        % {"encoding": encoding},
    )


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN_VALUE else value[: _SHOWN_VALUE - 1] + "…"


def _labels() -> dict[str, str]:
    return {
        "resident_key": _("resident key (住民票コード)"),
        "name": _("name (氏名)"),
        "birth_date": _("date of birth (生年月日)"),
        "address": _("address (住所)"),
        "resident_since": _("resident since (住民となった日)"),
    }


def _read_header(cells: list[str]) -> tuple[list[str | None], list[RowError]]:
    """Map each header cell to its column; report unknown, repeated and missing columns."""
    errors: list[RowError] = []
    columns: list[str | None] = []
    seen: set[str] = set()
    for cell in cells:
        if not cell.strip():
            columns.append(None)  # an empty header cell: that column must stay empty
            continue
        column = _HEADER_LOOKUP.get(_header_key(cell))
        if column is None:
            errors.append(
                RowError(
                    1,
                    "unknown_header",
                    _("Unknown column “%(header)s”. Known columns: %(known)s.")
                    % {
                        "header": _shown(cell.strip()),
                        "known": ", ".join(
                            f"{names[0]}/{column}" for column, names in COLUMNS.items()
                        ),
                    },
                )
            )
        elif column in seen:
            errors.append(
                RowError(
                    1,
                    "duplicate_header",
                    _("The column “%(header)s” appears twice.") % {"header": _shown(cell.strip())},
                    column,
                )
            )
        seen.add(column or "")
        columns.append(column)
    for column in REQUIRED:
        if column not in seen:
            errors.append(
                RowError(
                    1,
                    "missing_header",
                    _("The column %(column)s is missing from the header line.")
                    % {"column": _labels()[column]},
                    column,
                )
            )
    return columns, errors


def _missing(line: int, column: str) -> RowError:
    return RowError(
        line, "missing_field", _("%(column)s is empty.") % {"column": _labels()[column]}, column
    )


def _check_text(
    line: int, column: str, value: str, limit: int, errors: list[RowError]
) -> str | None:
    value = value.strip()
    if not value:
        errors.append(_missing(line, column))
        return None
    if _CONTROL.search(value):
        errors.append(
            RowError(
                line,
                "control_character",
                _("%(column)s contains a line break or another control character.")
                % {"column": _labels()[column]},
                column,
            )
        )
        return None
    if len(value) > limit:
        errors.append(
            RowError(
                line,
                "too_long",
                _("%(column)s is %(length)d characters long; at most %(limit)d are allowed.")
                % {"column": _labels()[column], "length": len(value), "limit": limit},
                column,
            )
        )
        return None
    return value


def _check_date(
    line: int, column: str, value: str, errors: list[RowError], *, required: bool
) -> date | None:
    value = value.strip()
    if not value:
        if required:
            errors.append(_missing(line, column))
        return None
    try:
        return parse_date(value)
    except ValueError:
        errors.append(
            RowError(
                line,
                "bad_date",
                _("%(column)s “%(value)s” is not a valid date (write 1990-04-01 or 平成2年4月1日).")
                % {"column": _labels()[column], "value": _shown(value)},
                column,
            )
        )
        return None


def read_records(
    text: str, *, reference_date: date | None = None
) -> Iterator[RegisterRecord | RowError]:
    """Every row of the decoded file, checked: a record, or the errors of its line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous_end = 1
    try:
        header = next(reader, None)
        if header is None:
            yield RowError(1, "empty", _("The file is empty."))
            return
        columns, header_errors = _read_header(header)
        if header_errors:
            yield from header_errors
            return
        width = len(columns)
        index = {column: i for i, column in enumerate(columns) if column is not None}
        unnamed = [i for i, column in enumerate(columns) if column is None]
        previous_end = reader.line_num
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (and rows of empty cells, as Excel leaves them) are skipped
            errors: list[RowError] = []
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                errors.append(
                    RowError(
                        line,
                        "too_many_fields",
                        _("This line has %(count)d fields; the header has %(width)d.")
                        % {"count": len(cells), "width": width},
                    )
                )
            for i in unnamed:
                if i < len(cells) and cells[i].strip():
                    errors.append(
                        RowError(
                            line,
                            "too_many_fields",
                            _("Field %(number)d has no column name in the header.")
                            % {"number": i + 1},
                        )
                    )
            cells = cells + [""] * (width - len(cells))
            key = _check_text(line, "resident_key", cells[index["resident_key"]], MAX_KEY, errors)
            name = _check_text(line, "name", cells[index["name"]], MAX_NAME, errors)
            address = _check_text(line, "address", cells[index["address"]], MAX_ADDRESS, errors)
            birth = _check_date(
                line, "birth_date", cells[index["birth_date"]], errors, required=True
            )
            since = (
                _check_date(
                    line, "resident_since", cells[index["resident_since"]], errors, required=False
                )
                if "resident_since" in index
                else None
            )
            if reference_date is not None and birth is not None and birth > reference_date:
                errors.append(
                    RowError(
                        line,
                        "date_order",
                        _("%(column)s is after the reference date of the register.")
                        % {"column": _labels()["birth_date"]},
                        "birth_date",
                    )
                )
            if since is not None and (
                (birth is not None and since < birth)
                or (reference_date is not None and since > reference_date)
            ):
                errors.append(
                    RowError(
                        line,
                        "date_order",
                        _(
                            "%(column)s must lie between the date of birth and the reference date "
                            "of the register."
                        )
                        % {"column": _labels()["resident_since"]},
                        "resident_since",
                    )
                )
            if errors:
                yield from errors
                continue
            assert key is not None and name is not None and address is not None
            assert birth is not None
            yield RegisterRecord(line, key, name, birth, address, since)
    except csv.Error as error:
        yield RowError(
            previous_end + 1 if reader.line_num > 1 else 1,
            "not_csv",
            _("This line is not valid CSV (%(problem)s); check its quotation marks.")
            % {"problem": str(error)},
        )


def normalize_key(key: str) -> str:
    """The resident key as hashed (identity_hash normalises the same way): １２３ == 123."""
    return unicodedata.normalize("NFKC", key).strip()


def parse_register(
    data: bytes, *, municipality_name: str, reference_date: date | None = None
) -> ParsedRegister:
    """Decode, check and hash a whole register file; `errors` lists every bad line."""
    parsed = ParsedRegister()
    if len(data) > MAX_FILE_BYTES:
        parsed.errors.append(
            RowError(
                1,
                "too_large",
                _("The file is larger than %(size)d MB.") % {"size": MAX_FILE_BYTES // 2**20},
            )
        )
        return parsed
    try:
        text, parsed.encoding = decode_register(data)
    except RegisterFileError as error:
        parsed.errors.append(error.error)
        return parsed
    keys: dict[str, int] = {}
    persons: dict[str, int] = {}
    method = VerificationMethod.REGISTER.value
    for item in read_records(text, reference_date=reference_date):
        if isinstance(item, RowError):
            parsed.errors.append(item)
            continue
        key_hash = identity_hash(method, item.resident_key)
        person = person_hash(
            PersonFacts(item.name, item.birth_date, item.address), municipality_name
        )
        bad = False
        first = keys.setdefault(key_hash, item.line)
        if first != item.line:
            bad = True
            parsed.errors.append(
                RowError(
                    item.line,
                    "duplicate_key",
                    _("The same resident key is on line %(line)d.") % {"line": first},
                    "resident_key",
                )
            )
        first = persons.setdefault(person, item.line)
        if first != item.line:
            bad = True
            parsed.errors.append(
                RowError(
                    item.line,
                    "duplicate_person",
                    _("The same person (name, date of birth and address) is on line %(line)d.")
                    % {"line": first},
                )
            )
        if not bad:
            parsed.rows.append(RegisterRow(item.line, key_hash, person, item.resident_since))
    parsed.errors.sort(key=lambda error: error.line)
    return parsed
