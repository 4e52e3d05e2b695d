"""Issue 15, defect 2: a council document attached on the review page downloads, from the storage,
for whoever may read it (the council before the answer, everyone after), and only real PDFs or
images of an allowed size are accepted."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from identity.models import Municipality, Role
from proposals import services
from proposals.models import CouncilDocument, Proposal, Status
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    logged_in,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/proposals/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _submitted(town: Municipality) -> Proposal:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=1),
        author=author,
        collecting=True,
    )
    services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
    services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED
    return proposal


def _attach(council: Client, proposal: Proposal, name: str, content: bytes) -> int:
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = council.post(
        f"{BASE}staff/council/{proposal.pk}/documents/", {"title": "審議資料", "file": upload}
    )
    return response.status_code


def _document_links(page: str) -> list[str]:
    return re.findall(r'href="([^"]*/documents/\d+/)"', page)


def test_a_visitor_downloads_a_published_council_document(
    town: Municipality, media_root: Path
) -> None:
    proposal = _submitted(town)
    council_member = staff(town, Role.COUNCIL)
    council = logged_in(council_member)
    assert _attach(council, proposal, "会議資料 memo.pdf", PDF) == 302

    document = CouncilDocument.objects.get()
    assert document.original_name == "会議資料 memo.pdf" and document.size == len(PDF)
    # Stored under a name of our making, inside the test's media root, not the uploader's name.
    stored = Path(media_root, document.file.name)
    assert stored.read_bytes() == PDF and "memo" not in str(document.file.name)

    # The review page links a URL that answers with the file (it linked /media/…, a 404).
    links = _document_links(council.get(f"{BASE}staff/council/{proposal.pk}/").content.decode())
    assert links == [f"{BASE}{proposal.pk}/documents/{document.pk}/"]
    response = council.get(links[0])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f"filename*=utf-8''{quote('会議資料 memo.pdf')}" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]

    # Before the answer: the council's working papers, hidden from residents and visitors.
    visitor = Client()
    assert visitor.get(links[0]).status_code == 404
    assert _document_links(visitor.get(f"{BASE}{proposal.pk}/").content.decode()) == []
    assert logged_in(verified(town)).get(links[0]).status_code == 404

    services.proposal_answer(
        actor=council_member,
        municipality=town,
        proposal_id=proposal.pk,
        decision="adopted",
        reasons="予算の範囲で実施します。来年度から段階的に進めます。",
    )
    # Once the answer is published, anyone follows the link on the proposal's page.
    page = visitor.get(f"{BASE}{proposal.pk}/").content.decode()
    assert _document_links(page) == links and "PDF" in page
    public = visitor.get(links[0])
    assert public.status_code == 200
    assert b"".join(public.streaming_content) == PDF
    assert "no-store" not in public.get("Cache-Control", "")


def test_documents_stay_in_their_municipality(town: Municipality, media_root: Path) -> None:
    proposal = _submitted(town)
    assert _attach(logged_in(staff(town, Role.COUNCIL)), proposal, "a.pdf", PDF) == 302
    document = CouncilDocument.objects.get()
    other = MunicipalityFactory(slug="kamakura")
    other_council = logged_in(staff(other, Role.COUNCIL))
    assert other_council.get(f"{BASE}{proposal.pk}/documents/{document.pk}/").status_code == 404
    path = f"/m/kamakura/proposals/{proposal.pk}/documents/{document.pk}/"
    assert other_council.get(path).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("memo.pdf", b"MZ\x90\x00 not a pdf at all", "PDF, PNG or JPEG"),
        ("memo.pdf", b"<html><script>alert(1)</script>", "PDF, PNG or JPEG"),
        ("big.pdf", PDF + b"0" * 2048, "larger than"),
    ],
    ids=["executable", "html", "too-large"],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    town: Municipality,
    media_root: Path,
    settings: Any,
    name: str,
    content: bytes,
    message: str,
) -> None:
    settings.MEBUKU_DOCUMENT_MAX_BYTES = 1024
    proposal = _submitted(town)
    council = logged_in(staff(town, Role.COUNCIL))
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = council.post(
        f"{BASE}staff/council/{proposal.pk}/documents/",
        {"title": "資料", "file": upload},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not CouncilDocument.objects.exists()
    assert not any(p.is_file() for p in media_root.rglob("*"))


def test_image_documents_and_unsafe_names(town: Municipality, media_root: Path) -> None:
    proposal = _submitted(town)
    council = logged_in(staff(town, Role.COUNCIL))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    assert _attach(council, proposal, "../../etc/地図\x00.exe", png) == 302
    document = CouncilDocument.objects.get()
    assert document.content_type == "image/png"
    assert document.original_name == "地図.exe.png"
    assert document.file.name.endswith(".png") and ".." not in str(document.file.name)
    assert Path(media_root, document.file.name).read_bytes() == png


@pytest.mark.django_db(transaction=True)
def test_a_document_streams_under_asgi(town: Municipality, media_root: Path) -> None:
    """Under uvicorn the file is read in blocks on a worker thread, not whole into memory."""
    import asyncio

    from tests.asgi import asgi_call

    proposal = _submitted(town)
    council_member = staff(town, Role.COUNCIL)
    big = PDF + b"%" * (3 * 64 * 1024)  # several of FileResponse's blocks
    assert _attach(logged_in(council_member), proposal, "資料.pdf", big) == 302
    services.proposal_answer(
        actor=council_member,
        municipality=town,
        proposal_id=proposal.pk,
        decision="adopted",
        reasons="予算の範囲で実施します。来年度から段階的に進めます。",
    )
    document = CouncilDocument.objects.get()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must read a sync file whole
        reply = asyncio.run(
            asgi_call(f"{BASE}{proposal.pk}/documents/{document.pk}/", method="GET")
        )
    assert reply.status == 200 and reply.body == big
    assert reply.headers["content-length"] == str(len(big))
    assert reply.headers["x-content-type-options"] == "nosniff"
