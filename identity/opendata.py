"""The open data registry: every public download of a municipality, its columns and where it is,
for the open data page and the one zip of all of it.

identity/ knows none of the apps: each names its datasets in a module listed in the
MEBUKU_OPEN_DATA setting (`proposals.opendata.DATASETS`, …). A dataset's files are produced by the
same export functions and selectors as its own download links, so the zip holds exactly what
those links give (tests/city2/test_open_data.py checks it file by file, and that the columns
listed here are the header each download really has).
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from identity.exports import csv_rows
from identity.models import Municipality

# Licence of everything listed: Creative Commons Attribution 4.0, as the national and most
# municipal open data catalogues in Japan use (the government's standard terms are compatible).
LICENCE_NAME = "CC BY 4.0"
LICENCE_URLS = {
    "ja": "https://creativecommons.org/licenses/by/4.0/deed.ja",
    "en": "https://creativecommons.org/licenses/by/4.0/deed.en",
}


@dataclass(frozen=True)
class DataFile:
    """One download: its URL (with the municipality's prefix), its name in the zip, what it is
    about (a proposal's title, say) and a producer of its bytes."""

    url: str
    name: str
    label: str
    body: Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class Dataset:
    """A kind of public download. `columns` are the fixed ones, in order; `more_columns` says
    what follows them when a file has columns of its own (one per statement, say)."""

    key: str
    title: Promise
    description: Promise
    doc: str
    files: Callable[[Municipality], Iterable[DataFile]]
    columns: tuple[str, ...] = ()
    more_columns: Promise | None = None
    format: str = "CSV"


def csv_body(
    header: Callable[[], Sequence[str]], rows: Callable[[], Iterable[Sequence[Any]]]
) -> Callable[[], Iterator[bytes]]:
    """A CSV file's bytes exactly as `identity.exports.csv_response` sends them, made only when
    read (the header may depend on the data, e.g. a debate's opinion groups)."""

    def produce() -> Iterator[bytes]:
        for line in csv_rows(header(), rows()):
            yield line.encode()

    return produce


@cache
def datasets() -> tuple[Dataset, ...]:
    return tuple(dataset for path in settings.MEBUKU_OPEN_DATA for dataset in import_string(path))


@dataclass(frozen=True)
class Listing:
    dataset: Dataset
    files: list[DataFile]


def open_data(municipality: Municipality) -> list[Listing]:
    """Every public download of `municipality`, by dataset (one query per dataset)."""
    return [Listing(d, list(d.files(municipality))) for d in datasets()]


# The zip ---------------------------------------------------------------------------------------

# Written out at least this often, so a large table never sits in memory.
FLUSH_BYTES = 256 * 1024


class _Sink:
    """A write-only stream: zipfile, finding no seek or tell, writes a streamable zip (sizes in
    data descriptors after each member), and we hand on what it wrote."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def zip_chunks(
    extra: Sequence[tuple[str, bytes]], files: Iterable[DataFile], at: datetime | None = None
) -> Iterator[bytes]:
    """A deflated zip of `extra` (name, bytes) and then every file, produced as it is written."""
    local = timezone.localtime(at or timezone.now())
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    sink = _Sink()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, data in extra:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                for chunk in file.body():
                    member.write(chunk)
                    if sink.size >= FLUSH_BYTES:
                        yield sink.take()
            if sink.size:
                yield sink.take()
    yield sink.take()


def _take(chunks: Iterator[bytes], n: int) -> list[bytes]:
    return list(islice(chunks, n))


async def async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Under ASGI a streamed response needs an async iterator; the chunks come from the database,
    so they are pulled on Django's sync thread (one connection for the whole zip)."""
    pull = sync_to_async(_take, thread_sensitive=True)
    while batch := await pull(chunks, 16):
        for chunk in batch:
            yield chunk
