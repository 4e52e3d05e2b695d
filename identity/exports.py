"""CSV for the public record and for staff: UTF-8 with BOM (Excel in Japan opens it), ISO 8601
times with offset, formula injection neutralised, streamed so large tables never sit in memory."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # a number (e.g. a vote of -1) is never a formula: kept numeric
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        # A leading apostrophe makes spreadsheets show the text instead of evaluating it.
        return "'" + text
    return text


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


def _take(lines: Iterator[str], n: int) -> list[str]:
    return list(islice(lines, n))


async def _async_lines(lines: Iterator[str]) -> AsyncIterator[str]:
    """Under ASGI a streamed response needs an async iterator (a sync one is read whole into
    memory first). The rows come from the database, so they are pulled in chunks on Django's
    sync thread, keeping one connection for the whole export."""
    pull = sync_to_async(_take, thread_sensitive=True)
    while chunk := await pull(lines, 500):
        for line in chunk:
            yield line


def csv_response(
    request: HttpRequest, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    lines = csv_rows(header, rows)
    content = _async_lines(lines) if isinstance(request, ASGIRequest) else lines
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


AUDIT_COLUMNS = (
    "id",
    "time",
    "municipality",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "data",
    "seq",
    "entry_hash",
    "chain_hash",
)
