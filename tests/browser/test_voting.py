"""An online election end to end in Chromium, axe-core on every page and on every step of the
ballot: the election office creates it through its pages, two trustees make keys with the trustee
tool (a real subprocess) and upload the public parts, the office freezes it, three residents vote
(one votes again, one audits a ballot first and then casts a new one), a 17-year-old is told why
they cannot vote, the office closes, the trustees decrypt with the tool and upload the factors,
the results publish, and the downloaded record passes `python -m voting.verify`.

Selectors use ids, names, data attributes and URLs rather than visible text, so the test holds in
both languages. Staff sign in by session cookie (sign-in with two-step verification is covered by
test_foundation); trustees and residents through the sign-in form.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from identity.models import Municipality, Role, User
from tests.browser.conftest import (
    CheckedPage,
    OpenPage,
    as_staff,
    outside_playwright_loop,
    sign_in,
    staff_user,
)
from tests.factories import UserFactory, verified
from voting import services
from voting.election import generate_key
from voting.election.rng import TestStream
from voting.models import Ballot, Election, Status, Trustee

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HOME = "/m/maebashi/"
ELECTIONS = f"{HOME}elections/"
OFFICE = f"{ELECTIONS}office/"
MAIN_SUBMIT = "main form button[type=submit]"
# Encrypting a ballot is a few hundred 2048-bit exponentiations in JavaScript; another process
# may be keeping the CPU busy.
CRYPTO_TIMEOUT_MS = 90_000
TOOL_TIMEOUT_S = 120


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the project's command-line tools as a trustee or journalist would."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# The election office ---------------------------------------------------------------------------


def office_creates_election(page: CheckedPage) -> int:
    page.goto(f"{HOME}staff/")
    page.submit(f"main a[href='{OFFICE}']")
    page.submit(f"main a[href='{OFFICE}new/']")
    now = timezone.now()
    page.locator("#id_title").fill("市民投票: 新図書館の建設")
    page.locator("#id_explanation").fill("中心市街地に新しい図書館を建てるかどうかを決めます。")
    page.locator("#id_opens_at").fill(local(now - timedelta(minutes=2)))
    page.locator("#id_closes_at").fill(local(now + timedelta(days=7)))
    page.locator("#id_min_age").fill("18")
    page.submit(MAIN_SUBMIT)
    with outside_playwright_loop():
        election = Election.objects.get(title="市民投票: 新図書館の建設")
    assert page.path == f"{OFFICE}{election.pk}/questions/"

    page.locator("#id_q-0-text").fill("新しい図書館を建てることに賛成ですか。")
    page.locator("input[name='q-0-kind'][value='yes_no']").check()
    page.locator("#id_q-1-text").fill("優先する施設を二つまで選んでください。")
    page.locator("input[name='q-1-kind'][value='list']").check()
    page.locator("#id_q-1-options").fill("公園\n保育所\n図書館")
    page.locator("#id_q-1-min_selections").fill("0")
    page.locator("#id_q-1-max_selections").fill("2")
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{OFFICE}{election.pk}/"
    return election.pk


def office_appoints(page: CheckedPage, election_id: int, email: str) -> None:
    form = f"form[action='{OFFICE}{election_id}/trustees/']"
    page.locator(f"{form} input[name=email]").fill(email)
    page.submit(f"{form} button")
    assert page.locator(".message-success").count() == 1


# Trustees ---------------------------------------------------------------------------------------


def trustee_uploads_key(page: CheckedPage, election_id: int, key_file: Path) -> None:
    page.goto(f"{ELECTIONS}mine/")
    page.submit(f"main a[data-trustee-link='{election_id}']")
    assert "python -m voting.trustee keygen" in page.text()
    made = tool("voting.trustee", "keygen", "--out", str(key_file))
    assert made.returncode == 0, made.stderr
    public = json.loads(made.stdout)
    assert set(public) == {"public_key", "pok"}

    # A forged proof is refused with the reason, and nothing changes.
    forged = {**public, "pok": {**public["pok"], "response": "1"}}
    page.locator("#id_key-text").fill(json.dumps(forged))
    page.submit(MAIN_SUBMIT)
    assert page.locator("[data-refusal]").is_visible()
    assert page.locator("[data-key-uploaded]").count() == 0

    page.locator("#id_key-text").fill(made.stdout)
    page.submit(MAIN_SUBMIT)
    assert page.locator("[data-key-uploaded]").is_visible()


def trustee_decrypts(page: CheckedPage, election_id: int, key_file: Path, work: Path) -> None:
    page.goto(f"{ELECTIONS}{election_id}/trustee/")
    with page.page.expect_download() as download:
        page.locator("[data-tally-download]").click()
    tally = work / "tally.json"
    download.value.save_as(tally)
    factors = work / "factors.json"
    done = tool(
        "voting.trustee",
        "decrypt",
        "--key",
        str(key_file),
        "--tally",
        str(tally),
        "--out",
        str(factors),
    )
    assert done.returncode == 0, done.stderr
    page.locator("#id_factors-file").set_input_files(str(factors))
    page.submit(MAIN_SUBMIT)
    assert page.locator("[data-decrypted]").is_visible()


# Voters -----------------------------------------------------------------------------------------


def choose(page: CheckedPage, selections: dict[str, list[str]]) -> None:
    for question, options in selections.items():
        for box in page.locator(f"input[name='q-{question}'][type=checkbox]").all():
            box.uncheck()
        for option in options:
            page.locator(f"input[name='q-{question}'][value='{option}']").check()


def step(page: CheckedPage, name: str) -> None:
    """Wait for a step of the ballot (no new document: the script shows it) and check it."""
    page.locator(f"[data-step={name}]").wait_for(state="visible", timeout=CRYPTO_TIMEOUT_MS)
    page.check(new_document=False)


def encrypt(page: CheckedPage, election_id: int, selections: dict[str, list[str]]) -> str:
    """Choose, read the choices back, encrypt; returns the tracker shown."""
    if not page.path.endswith(f"/{election_id}/vote/"):
        page.goto(f"{ELECTIONS}{election_id}/vote/")
    step(page, "choose")
    choose(page, selections)
    page.locator("[data-ballot-form] button[type=submit]").click()
    step(page, "confirm")
    readback = page.locator("[data-readback]").inner_text()
    assert "はい" in readback or "いいえ" in readback or "Yes" in readback or "No" in readback
    page.locator("[data-action=encrypt]").click()
    step(page, "encrypted")
    tracker = page.locator("[data-step=encrypted] [data-tracker]").inner_text().replace(" ", "")
    assert len(tracker) == 64
    return tracker


def cast(page: CheckedPage) -> str:
    with page.page.expect_request(
        lambda request: request.method == "POST" and request.url.endswith("/ballots")
    ) as sent:
        page.locator("[data-action=cast]").click()
    # The server receives the encrypted ballot only: ciphertexts and proofs, no choice.
    body = sent.value.post_data_json
    assert isinstance(body, dict) and set(body) == {"alias", "answers"}
    assert all(
        set(choice) == {"alpha", "beta", "proof"}
        for answer in body["answers"]
        for choice in answer["choices"]
    )
    step(page, "cast")
    tracker = page.locator("[data-step=cast] [data-tracker]").inner_text().replace(" ", "")
    assert page.locator("[data-board-link]").get_attribute("href", timeout=1000)
    return tracker


def vote(page: CheckedPage, election_id: int, selections: dict[str, list[str]]) -> str:
    shown = encrypt(page, election_id, selections)
    tracker = cast(page)
    assert tracker == shown
    return tracker


@pytest.fixture
def residents(maebashi: Municipality) -> dict[str, User]:
    with outside_playwright_loop():
        people = {f"voter{i}": verified(maebashi, birth=date(1970 + i, 5, 1)) for i in range(3)}
        people["teen"] = verified(maebashi, birth=timezone.localdate() - timedelta(days=17 * 365))
    return people


def test_an_election_from_preparation_to_a_verified_record(
    open_page: OpenPage,
    maebashi: Municipality,
    residents: dict[str, User],
    tmp_path: Path,
) -> None:
    office_user = staff_user(maebashi, Role.ELECTION_OFFICE)
    with outside_playwright_loop():
        trustee_users: list[User] = [UserFactory(email=f"trustee{i}@example.jp") for i in (1, 2)]

    # The office prepares the election and appoints two trustees.
    office = open_page()
    as_staff(office, office_user)
    election_id = office_creates_election(office)
    for user in trustee_users:
        office_appoints(office, election_id, user.email)
    assert office.locator("[data-key-status] .status-warn").count() == 2

    # Each trustee makes a key pair with the tool and uploads the public part.
    trustee_pages: list[CheckedPage] = []
    keys = [tmp_path / f"key-{i}.json" for i in (1, 2)]
    for user, key_file in zip(trustee_users, keys, strict=True):
        page = open_page()
        sign_in(page, user.email)
        trustee_uploads_key(page, election_id, key_file)
        trustee_pages.append(page)

    # The office sees both keys and freezes the election after the confirmation page.
    office.goto(f"{OFFICE}{election_id}/")
    assert office.locator("[data-key-status] .status-ok").count() == 2
    office.submit(f"main a[href='{OFFICE}{election_id}/freeze/']")
    office.submit("main form button.button-danger")
    assert office.locator("[data-status=frozen]").count() == 1
    office.submit(f"main a[href='{OFFICE}{election_id}/roll-report/']")
    assert office.locator("[data-reason=under_age]").count() == 1
    assert office.locator("[data-roll-size]").inner_text() == "3"

    # A 17-year-old is told why they cannot vote (on a phone).
    teen = open_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(teen, residents["teen"].email)
    teen.goto(f"{ELECTIONS}{election_id}/")
    reason = teen.locator("[data-reason=under_age]")
    assert reason.is_visible() and reason.inner_text().strip()
    assert teen.locator("[data-vote-link]").count() == 0
    teen.goto(f"{ELECTIONS}{election_id}/vote/", status=403)
    assert teen.locator("[data-reason=under_age]").is_visible()
    assert teen.locator("[data-ballot]").count() == 0

    # Voter 0 votes once, from the list of their elections; the choice limits are enforced.
    first = open_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(first, residents["voter0"].email)
    first.goto(f"{ELECTIONS}mine/")
    first.submit(f"main [data-election='{election_id}'] a[data-vote-link]")
    step(first, "choose")
    choose(first, {"q1": ["yes"], "q2": ["o1", "o2", "o3"]})
    first.locator("[data-ballot-form] button[type=submit]").click()
    first.locator("[data-question=q2] [data-error]").wait_for(state="visible")
    first.check(new_document=False)
    assert first.locator("[data-step=confirm]").is_hidden()
    assert first.locator("[data-question=q2] input[aria-invalid=true]").count() == 3
    width = first.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the ballot is {width}px wide on a phone"
    tracker0 = vote(first, election_id, {"q1": ["yes"], "q2": ["o1"]})
    first.submit("[data-step=cast] a[data-board-link]")
    row = first.locator(f"tr[data-tracker='{tracker0}']")
    assert row.count() == 1 and row.get_attribute("data-superseded") == "false"

    # Voter 1 votes, then changes their mind: only the last ballot counts.
    second = open_page()
    sign_in(second, residents["voter1"].email)
    replaced = vote(second, election_id, {"q1": ["yes"], "q2": ["o3"]})
    second.goto(f"{ELECTIONS}{election_id}/vote/")
    assert second.locator("[data-voted]").is_visible()
    tracker1 = vote(second, election_id, {"q1": ["no"], "q2": []})
    second.goto(f"{ELECTIONS}{election_id}/board/?tracker={replaced}")
    assert second.locator("[data-found=replaced]").is_visible()

    # Voter 2 audits a ballot first: its randomness is revealed, checked, published, never cast.
    third = open_page()
    sign_in(third, residents["voter2"].email)
    audited = encrypt(third, election_id, {"q1": ["yes"], "q2": ["o2", "o3"]})
    third.locator("details.audit-explainer summary").click()
    third.locator("[data-action=audit]").click()
    step(third, "audited")
    third.locator("[data-audit-posted]").wait_for(state="visible", timeout=CRYPTO_TIMEOUT_MS)
    third.check(new_document=False)
    assert "status-ok" in (third.locator("[data-audit-result]").get_attribute("class") or "")
    assert third.locator("[data-audit-rows] tr").count() == 5
    assert third.locator("[data-audit-server] dd").count() == 2
    with outside_playwright_loop():
        spoiled = Ballot.objects.get(tracker=audited)
    assert spoiled.kind == "audited" and spoiled.selections == {"q1": ["yes"], "q2": ["o2", "o3"]}
    third.locator("[data-step=audited] [data-action=restart]").click()
    tracker2 = vote(third, election_id, {"q1": ["yes"], "q2": ["o2", "o3"]})
    assert tracker2 != audited
    third.goto(f"{ELECTIONS}{election_id}/board/")
    third.submit(f"main a[href='{ELECTIONS}{election_id}/board/audited/{audited}/']")
    assert third.locator("[data-chosen='1']").count() == 3

    with outside_playwright_loop():
        counted = set(
            Ballot.objects.counted()
            .filter(election_id=election_id)
            .values_list("tracker", flat=True)
        )
    assert counted == {tracker0, tracker1, tracker2}

    # The office closes voting; the tally is computed right after.
    office.goto(f"{OFFICE}{election_id}/")
    office.submit(f"form[action='{OFFICE}{election_id}/close/'] button")
    with outside_playwright_loop():
        assert Election.objects.get(pk=election_id).status == Status.TALLIED
    assert office.locator("[data-decryption-status]").count() == 2

    # Each trustee downloads tally.json, runs the tool and uploads the factors.
    for i, (page, key_file) in enumerate(zip(trustee_pages, keys, strict=True)):
        work = tmp_path / f"trustee-{i + 1}"
        work.mkdir()
        trustee_decrypts(page, election_id, key_file, work)
    with outside_playwright_loop():
        assert Election.objects.get(pk=election_id).status == Status.PUBLISHED

    # Anyone reads the results (on a phone, too) and verifies the record with the verifier.
    public = open_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    public.goto(f"{ELECTIONS}{election_id}/")
    public.submit(f"main a[href='{ELECTIONS}{election_id}/results/']")
    counts = {
        (question.get_attribute("data-question"), option.get_attribute("data-option")): int(
            option.get_attribute("data-count") or -1
        )
        for question in public.locator("[data-question]").all()
        for option in question.locator("[data-option]").all()
    }
    assert counts == {
        ("q1", "yes"): 2,
        ("q1", "no"): 1,
        ("q2", "o1"): 1,
        ("q2", "o2"): 1,
        ("q2", "o3"): 1,
    }
    assert public.locator("[data-verify-guide]").is_visible()
    width = public.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the results page is {width}px wide on a phone"
    with public.page.expect_download() as download:
        public.locator("[data-record-link]").click()
    record = tmp_path / "record.json"
    download.value.save_as(record)
    verified_run = tool("voting.verify", str(record))
    assert verified_run.returncode == 0, verified_run.stdout + verified_run.stderr
    assert "VERIFIED" in verified_run.stdout
    data = json.loads(record.read_text(encoding="utf-8"))
    assert [r["counts"] for r in data["results"]] == [[2, 1], [1, 1, 1]]
    assert sum(1 for b in data["ballots"] if b["counted"]) == 3
    assert len(data["ballots"]) == 4  # voter 1's first ballot is there, superseded
    assert audited not in {b["tracker"] for b in data["ballots"]}


def open_election(town: Municipality, office_user: User) -> Election:
    """A frozen election open now, prepared through the services (keys from the library)."""
    with outside_playwright_loop():
        trustees = [UserFactory() for _ in range(2)]
        now = timezone.now()
        election = services.election_create(
            actor=office_user,
            municipality=town,
            values=services.ElectionValues(
                title="住民投票",
                opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(days=1),
            ),
        )
        services.questions_set(
            actor=office_user,
            municipality=town,
            election_id=election.pk,
            questions=[services.QuestionValues.yes_no("賛成ですか。")],
        )
        for i, user in enumerate(trustees):
            services.trustee_appoint(
                actor=office_user, municipality=town, election_id=election.pk, email=user.email
            )
            services.trustee_key_upload(
                actor=user,
                municipality=town,
                election_id=election.pk,
                upload=generate_key(TestStream(f"browser-{i}")).upload_json(),
            )
        services.election_freeze(actor=office_user, municipality=town, election_id=election.pk)
        election.refresh_from_db()
    return election


def test_without_javascript_the_ballot_says_it_needs_it(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    office_user = staff_user(maebashi, Role.ELECTION_OFFICE)
    with outside_playwright_loop():
        voter = verified(maebashi)
    election = open_election(maebashi, office_user)
    page = open_page(java_script_enabled=False)
    sign_in(page, voter.email)
    page.goto(f"{ELECTIONS}{election.pk}/vote/")
    assert page.locator("[data-noscript]").is_visible()
    assert page.locator("[data-ballot]").is_hidden()
    # Everything else works: the bulletin board and its search.
    page.goto(f"{ELECTIONS}{election.pk}/board/")
    page.locator("#id_tracker").fill("abcdef")
    page.submit("main form[role=search] button[type=submit]")
    assert page.locator("[data-board-count]").is_visible()


def test_trustee_makes_the_key_pair_in_the_browser(
    open_page: OpenPage, maebashi: Municipality, tmp_path: Path
) -> None:
    """The optional browser key generation: the secret is saved as a key file the trustee tool
    reads, and only the public part with its proof is posted."""
    with outside_playwright_loop():
        office_user = staff_user(maebashi, Role.ELECTION_OFFICE)
        trustee: User = UserFactory()
        now = timezone.now()
        election = services.election_create(
            actor=office_user,
            municipality=maebashi,
            values=services.ElectionValues(
                title="住民投票",
                opens_at=now + timedelta(days=1),
                closes_at=now + timedelta(days=2),
            ),
        )
        services.trustee_appoint(
            actor=office_user, municipality=maebashi, election_id=election.pk, email=trustee.email
        )
    page = open_page()
    sign_in(page, trustee.email)
    page.goto(f"{ELECTIONS}{election.pk}/trustee/")
    page.locator("[data-action=keygen]").click()
    page.locator("[data-keygen-done]").wait_for(state="visible", timeout=CRYPTO_TIMEOUT_MS)
    page.check(new_document=False)
    with page.page.expect_download() as download:
        page.locator("[data-key-download]").click()
    key_file = tmp_path / "key.json"
    download.value.save_as(key_file)
    pasted = page.locator("#id_key-text").input_value()
    assert "secret" not in pasted and set(json.loads(pasted)) == {"public_key", "pok"}
    with page.page.expect_request(lambda r: r.method == "POST") as sent:
        page.submit(MAIN_SUBMIT)
    assert "secret" not in (sent.value.post_data or "")
    assert page.locator("[data-key-uploaded]").is_visible()

    from voting.trustee import load_key

    key = load_key(json.loads(key_file.read_text(encoding="utf-8")), None)
    with outside_playwright_loop():
        stored = Trustee.objects.get(election=election, user=trustee)
    assert stored.uploaded_at is not None and stored.public_key == format(key.public, "x")


def test_a_refused_cast_shows_the_servers_reason(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    """Voting closes while the voter looks at their encrypted ballot: the cast is refused (409)
    and the page says why, in the server's words; nothing is recorded."""
    office_user = staff_user(maebashi, Role.ELECTION_OFFICE)
    with outside_playwright_loop():
        voter = verified(maebashi)
    election = open_election(maebashi, office_user)
    page = open_page()
    sign_in(page, voter.email)
    encrypt(page, election.pk, {"q1": ["no"]})
    with outside_playwright_loop():
        services.election_close(actor=office_user, municipality=maebashi, election_id=election.pk)
    page.locator("[data-action=cast]").click()
    status = page.locator("[data-step=encrypted] [data-status].error")
    status.wait_for(state="visible", timeout=CRYPTO_TIMEOUT_MS)
    page.check(new_document=False)
    with translation.override("ja"):
        expected = str(gettext("Voting in this election has closed."))
    assert status.inner_text().strip() == expected
    assert page.locator("[data-step=cast]").is_hidden()
    with outside_playwright_loop():
        assert not Ballot.objects.filter(election=election).exists()
