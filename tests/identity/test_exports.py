from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from identity.exports import csv_cell
from identity.models import Role
from tests.factories import MunicipalityFactory, staff


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+81", "'+81"),
        ("-1", "'-1"),
        ("@SUM", "'@SUM"),
        ("\tx", "'\tx"),
        ("前橋", "前橋"),
        (None, ""),
        (True, "true"),
        (12, "12"),
        (-1, "-1"),
        (-0.5, "-0.5"),
    ],
)
def test_cells_are_safe_for_spreadsheets(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.django_db(transaction=True)
async def test_csv_streams_asynchronously_under_asgi() -> None:
    """Under ASGI (production) the export is an async stream, not a list built in memory."""
    municipality = await sync_to_async(MunicipalityFactory)(slug="maebashi")
    admin = await sync_to_async(staff)(municipality, Role.ADMINISTRATOR)
    client = AsyncClient()
    await client.aforce_login(admin)
    response = await client.get("/m/maebashi/staff/audit.csv")
    assert response.status_code == 200
    assert response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    assert body.startswith("\ufeffid,time,municipality")
    assert "role.grant" in body
