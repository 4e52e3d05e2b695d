"""Issue 13, point 2: no staff role can tie a person to a ballot or to a debate vote.

The bulletin board is the record of ballots; the staff audit log records election administration
only (docs/design.md, "Secrecy"). The replay: a resident casts, audits (spoils) a ballot and votes
on a debate statement; then every staff audit-log page and filter, the staff election pages and
every CSV export are read by a person holding every staff role.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from debates.services import statement_create_from_contributions, vote_cast
from identity.models import AuditEntry, Role, User
from tests.factories import DebateFactory, grant, staff
from tests.voting.conftest import NO, YES, Scenario, randomness_of
from voting import selectors, services
from voting.election.rng import TestStream

pytestmark = pytest.mark.django_db

M = "/m/maebashi"


def _everything_staff_can_read(s: Scenario, debate_id: int, voter: User) -> dict[str, str]:
    """Every staff audit-log page and filter, the staff election and debate pages, every export."""
    reader = staff(s.town, Role.ADMINISTRATOR)
    for role in Role.values:
        if role != Role.ADMINISTRATOR:
            grant(reader, s.town, role)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(reader)
    election = s.election.pk
    urls = [f"{M}/elections/office/", f"{M}/elections/office/{election}/"]
    urls += [f"{M}/elections/office/{election}/roll-report/"]
    urls += [f"{M}/elections/{election}/board/", f"{M}/elections/{election}/board.csv"]
    urls += [f"{M}/elections/{election}/results.csv", f"{M}/elections/{election}/record.json"]
    urls += [f"{M}/debates/{debate_id}/moderation/", f"{M}/debates/{debate_id}/votes.csv"]
    urls += [f"{M}/debates/{debate_id}/statements.csv", f"{M}/debates/{debate_id}/report/"]
    filters = ["", "?action=ballot", "?action=ballot.cast", "?action=ballot.audit"]
    filters += ["?action=debate", "?action=debate.vote", "?action=election", "?target_type="]
    filters += [f"?actor_email={voter.email}", "?target_type=voting.ballot"]
    for query in filters:
        urls += [f"{M}/staff/audit/{query}", f"{M}/staff/audit.csv{query}"]
    pages = {}
    for url in urls:
        response = client.get(url)
        # Results and the record exist once the tally is published (404 before): still asked.
        expected = (200, 404) if url.endswith(("results.csv", "record.json")) else (200,)
        assert response.status_code in expected, (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        pages[url] = body.decode("utf-8-sig")
    return pages


def test_no_staff_page_ties_a_person_to_a_ballot_or_a_debate_vote(
    scenario: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    s = scenario
    voter = s.voters[0]
    moderator = staff(s.town, Role.MODERATOR)
    debate = DebateFactory(municipality=s.town, created_by=moderator, phases=("converge",))
    statement = statement_create_from_contributions(
        actor=moderator, debate_id=debate.pk, text="駅前に屋根付きの広場を作るべきだ"
    )
    caplog.set_level(logging.DEBUG)

    cast = s.cast(voter, YES)
    alias = s.alias(voter)
    spoiled = services.ballot_audit(
        actor=voter,
        municipality=s.town,
        election_id=s.election.pk,
        ballot_json=s.ballot(voter, NO, seed="secrecy"),
        randomness=randomness_of(s.ctx, NO, TestStream("secrecy")),
    )
    vote_cast(actor=voter, statement_id=statement.pk, value=-1)

    # No audit entry has the voter as actor for any of these acts, nor names their tracker.
    assert not AuditEntry.objects.filter(actor=voter).exists()
    for entry in AuditEntry.objects.all():
        text = repr((entry.data, entry.target_type, entry.target_id))
        assert cast.tracker not in text and spoiled.tracker not in text and alias not in text
    assert not AuditEntry.objects.filter(action__startswith="ballot.").exists()
    assert not AuditEntry.objects.filter(action__startswith="debate.vote").exists()
    # No log line either.
    for record in caplog.records:
        line = record.getMessage()
        assert cast.tracker not in line and spoiled.tracker not in line and alias not in line

    # The audited ballot is on the board without an alias (neither a field nor inside the JSON).
    (audited,) = selectors.audited_ballots(s.election)
    assert audited.tracker == spoiled.tracker and alias not in repr(audited)
    page = Client().get(f"{M}/elections/{s.election.pk}/board/audited/{spoiled.tracker}/")
    assert page.status_code == 200 and alias not in page.content.decode()

    person = (voter.email, voter.display_name)
    secrets = (cast.tracker, spoiled.tracker, alias)
    for url, body in _everything_staff_can_read(s, debate.pk, voter).items():
        if any(who in body for who in person):
            leaked = [secret for secret in secrets if secret in body]
            assert not leaked, (url, leaked)
            assert "debate.vote" not in body.replace("action=debate.vote", ""), url
