"""Issue 15, defect 6: each municipality has an open data page, linked from its home page and the
site footer, that lists every public download with its documented columns and licence (CC BY 4.0),
and one zip of all of it holding exactly what the single downloads give."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import clear_script_prefix, set_script_prefix

from debates import demo as debates_demo
from identity import demo as identity_demo
from identity.models import Municipality
from identity.opendata import datasets
from proposals import demo as proposals_demo
from proposals.models import Proposal
from tests.factories import MunicipalityFactory, ProposalFactory, ProposalTypeFactory
from voting import demo as voting_demo

ROOT = Path(__file__).resolve().parents[2]
BASE = "/m/maebashi/"


def _body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _header(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # BOM, as every public CSV
    return text[1:].split("\r\n", 1)[0].split(",")


def test_every_listed_column_is_documented() -> None:
    """The column docs (docs/csv-*.md) stay the reference: each column the page lists is there."""
    for dataset in datasets():
        doc = (ROOT / dataset.doc).read_text(encoding="utf-8")
        for column in dataset.columns:
            assert re.search(rf"(^|[\s`|/(]){re.escape(column)}([\s`|/,)]|$)", doc, re.M), (
                dataset.key,
                column,
            )


@pytest.mark.django_db
def test_every_municipality_home_links_its_open_data() -> None:
    MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")
    MunicipalityFactory(slug="kamakura", name="鎌倉市", name_en="Kamakura", code="142042")
    client = Client()
    for slug in ("maebashi", "kamakura"):
        home = client.get(f"/m/{slug}/").content.decode()
        assert f'href="/m/{slug}/opendata/"' in home
        assert f'href="/m/{slug}/opendata/all.zip"' in home
        # The footer of any page of the municipality links the page too.
        footer = client.get(f"/m/{slug}/proposals/").content.decode().split("site-footer")[1]
        assert f'href="/m/{slug}/opendata/"' in footer

    page = client.get(f"{BASE}opendata/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "CC BY 4.0" in text and 'rel="license"' in text
    assert "https://creativecommons.org/licenses/by/4.0/deed.ja" in text
    assert "出典：前橋市" in text  # the attribution, in Japanese first
    for dataset in datasets():
        assert str(dataset.title) in text
        for column in dataset.columns:
            assert f"<code>{column}</code>" in text
    english = client.get(f"{BASE}opendata/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Source: Maebashi" in english and "deed.en" in english

    # With nothing published yet, the zip still holds the README and the empty tables.
    archive = zipfile.ZipFile(io.BytesIO(_body(client.get(f"{BASE}opendata/all.zip"))))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "README.txt",
        "proposals/answers.csv",
        "proposals/proposals.csv",
    ]
    readme = archive.read("README.txt").decode()
    assert "CC BY 4.0" in readme and "出典：前橋市" in readme and "Source: Maebashi" in readme
    assert client.get("/opendata/").status_code == 404  # a municipality's page only


@pytest.mark.django_db
def test_the_zip_holds_exactly_the_public_downloads() -> None:
    identity_demo.seed()
    proposals_demo.seed()
    debates_demo.seed()
    voting_demo.seed()
    town = Municipality.objects.get(slug="maebashi")
    # The registry gives each file's URL as the municipality's pages reverse it.
    set_script_prefix(BASE)
    try:
        listed_files = {d.key: list(d.files(town)) for d in datasets()}
    finally:
        clear_script_prefix()
    client = Client()

    response = client.get(f"{BASE}opendata/all.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(_body(response)))
    assert archive.testzip() is None

    page = client.get(f"{BASE}opendata/").content.decode()
    listed = 0
    for dataset in datasets():
        files = listed_files[dataset.key]
        assert files, f"the demo has data for {dataset.key}"
        for file in files:
            listed += 1
            assert f'href="{file.url}"' in page  # each download is linked from the page
            download = client.get(file.url)
            assert download.status_code == 200, file.url
            data = _body(download)
            # The zip holds the very bytes of the download (no staff-only or other data).
            assert archive.read(file.name) == data, file.name
            if dataset.format == "CSV":
                header = _header(data)
                # The columns the page lists are the header the download really has.
                assert header[: len(dataset.columns)] == list(dataset.columns), file.url
                if dataset.more_columns is None:
                    assert header == list(dataset.columns), file.url
    assert sorted(archive.namelist()) == sorted(
        ["README.txt", *(f.name for files in listed_files.values() for f in files)]
    )
    assert len(archive.namelist()) == listed + 1

    # Drafts, the signatory list and the other municipality's data are not in it.
    draft = Proposal.objects.filter(municipality=town, status="draft").first()
    assert draft is not None
    proposals_csv = archive.read("proposals/proposals.csv").decode()
    assert draft.title not in proposals_csv
    assert not any("signator" in name for name in archive.namelist())
    assert "kamakura" not in " ".join(archive.namelist())
    other = Proposal.objects.exclude(municipality=town).exclude(status="draft").first()
    assert other is not None and f"\r\n{other.pk}," not in proposals_csv


@pytest.mark.django_db(transaction=True)
def test_the_zip_streams_under_asgi() -> None:
    """Under uvicorn the zip is an async stream whose chunks are made on Django's sync thread."""
    import asyncio

    from tests.asgi import asgi_call

    town = MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")
    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), collecting=True)
    reply = asyncio.run(asgi_call(f"{BASE}opendata/all.zip", method="GET"))
    assert reply.status == 200 and reply.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(reply.body))
    assert archive.testzip() is None
    assert f"proposals/daily/proposal-{proposal.pk}-daily.csv" in archive.namelist()
    assert proposal.title in archive.read("proposals/proposals.csv").decode("utf-8-sig")


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_for_more_data() -> None:
    """One query per dataset, however many proposals, debates and elections there are."""
    town = MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")
    kind = ProposalTypeFactory(municipality=town)
    client = Client()

    def queries() -> int:
        client.get(f"{BASE}opendata/")  # warm the per-process caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{BASE}opendata/").status_code == 200
        return len(captured)

    ProposalFactory(type=kind, collecting=True)
    one = queries()
    for _ in range(3):
        ProposalFactory(type=kind, collecting=True)
    assert queries() == one
    assert one <= len(datasets()) + 2
