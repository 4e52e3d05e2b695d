"""Point 12: printable signature sheets (署名簿) — the PDF's layout read back from its text layer
and a page rendered to PNG, the Japanese font embedded — and who may print them."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 (poppler's tools, fixed arguments)
from pathlib import Path

import pytest
from django.test import Client

from identity.models import AuditEntry, Municipality, Role
from proposals import services
from proposals.models import Collector, Proposal
from tests.factories import logged_in, staff, verified
from tests.law.conftest import appoint, certified_demand, collecting_demand, office

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/proposals/"


# A full-length address, so the sheet's layout is tried with one.
ADDRESS = "前橋市大手町二丁目12番1号"


def _poppler(tool: str, *args: str) -> str:
    path = shutil.which(tool)
    assert path is not None, f"{tool} (poppler-utils) is needed"
    done = subprocess.run(  # nosec B603 (fixed tool, our own file)
        [path, *args], capture_output=True, check=True, text=True
    )
    return done.stdout


def _pdf(client: Client, proposal: Proposal, collector: Collector, sheets: int, tmp: Path) -> Path:
    response = client.get(
        f"{BASE}{proposal.pk}/sheets.pdf", {"collector": collector.pk, "sheets": sheets}
    )
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    path = tmp / "sheets.pdf"
    path.write_bytes(response.content)
    return path


def test_the_sheet_has_the_statutory_layout_in_its_text_layer(
    town: Municipality, tmp_path: Path
) -> None:
    proposal = collecting_demand(town)
    appoint(proposal, address=ADDRESS)
    collector = appoint(proposal, "受任 二郎", ADDRESS)  # collector no. 2
    pdf = _pdf(logged_in(proposal.author), proposal, collector, 2, tmp_path)
    assert "Pages:           2" in _poppler("pdfinfo", str(pdf))  # one page per sheet
    text = _poppler("pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-")
    for expected in (
        "条例制定改廃請求者署名簿",
        "署名簿番号 2-1",
        "請求の要旨",
        proposal.summary,
        "請求代表者",
        f"住民 {proposal.author.pk}",  # the representative's verified name
        "受任者",
        "受任 二郎",
        "署名収集期間",
        proposal.last_signing_day().isoformat(),
        "署名年月日",
        "住所",
        "生年月日",
        "氏名",
        "印",
        "選挙人名簿",
        "地方自治法第74条の4",
    ):
        assert expected in text, expected
    header = next(line for line in text.splitlines() if "署名年月日" in line and "印" in line)
    assert header.split() == ["番号", "署名年月日", "住所", "生年月日", "氏名", "印"]
    numbers = [line.split()[0] for line in text.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [n for n in numbers if n.isdigit()][:10] == [str(n) for n in range(1, 11)]
    second = _poppler("pdftotext", "-f", "2", "-l", "2", str(pdf), "-")
    assert "署名簿番号 2-2" in second
    # The Japanese font travels with the file, as a subset.
    fonts = _poppler("pdffonts", str(pdf))
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes " in line for line in cjk), fonts
    # A page renders, landscape, with ink on it.
    _poppler("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p"))
    png = next(tmp_path.glob("p*.png"))
    from PIL import Image

    with Image.open(png) as image:
        width, height = image.size
        assert width > height
        darkest = image.convert("L").getextrema()[0]
        assert isinstance(darkest, int) and darkest < 64  # some dark pixels: text and rules
    entry = AuditEntry.objects.get(action="proposal.sheets_print")
    assert entry.data == {"collector": 2, "sheets": 2}


def test_only_the_representative_and_the_office_print_and_only_in_time(
    town: Municipality, tmp_path: Path
) -> None:
    proposal = certified_demand(town)
    collector = appoint(proposal, address=ADDRESS)
    url = f"{BASE}{proposal.pk}/sheets.pdf"
    query = {"collector": collector.pk, "sheets": 1}
    other = logged_in(verified(town)).get(url, query)
    assert (
        other.status_code == 302
        and not AuditEntry.objects.filter(action="proposal.sheets_print").exists()
    )
    assert logged_in(staff(town, Role.COUNTER_CLERK)).get(url, query).status_code == 302
    assert _pdf(logged_in(office(town)), proposal, collector, 1, tmp_path).stat().st_size > 0
    too_many = logged_in(proposal.author).get(url, {"collector": collector.pk, "sheets": 51})
    assert too_many.status_code == 302
    services.collector_revoke(
        actor=proposal.author, municipality=town, proposal_id=proposal.pk, collector_id=collector.pk
    )
    assert logged_in(proposal.author).get(url, query).status_code == 302  # revoked: no sheets
    assert AuditEntry.objects.filter(action="proposal.sheets_print").count() == 1
