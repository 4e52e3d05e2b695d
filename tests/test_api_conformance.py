"""The API conforms to its own OpenAPI schema, whoever calls.

Schemathesis reads /api/v1/openapi.json and, for every operation, sends a few generated requests
(valid and invalid, deterministic) to the app in-process (WSGI, in the test's transaction), each
once as an anonymous caller, once with a resident's session token and once with the token of a
staff member (administrator and election office, with MFA). Every answer must be a non-5xx whose
status code is declared for the operation, whose content type is the declared one, and whose body
matches the declared schema.

Generated ids are replaced, in turn, by the ids of real objects and one that does not exist, so
requests reach the code behind the 404s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from ninja import Schema
from schemathesis import Case

from config.api import api
from debates.models import Contribution, Statement
from debates.services import comment_add, statement_create_from_contributions
from identity.models import Municipality, Role, RoleAssignment
from tests.factories import (
    DebateFactory,
    ElectionFactory,
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    grant,
    session_token,
    staff,
    verified,
)
from voting import services as voting_services
from voting.election import generate_key
from voting.election.rng import TestStream

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# A few examples per operation and caller in the suite; more to hunt locally, e.g.
# MEBUKU_API_FUZZ_EXAMPLES=50 MEBUKU_API_FUZZ_COVERAGE=1 MEBUKU_API_FUZZ_SEED=7 (minutes).
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(os.environ.get("MEBUKU_API_FUZZ_SEED", "20260101")),
        "generation": {
            "mode": "all",
            "max-examples": int(os.environ.get("MEBUKU_API_FUZZ_EXAMPLES", "6")),
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,  # the callers below bring their own
        },
        "phases": {
            "coverage": {"enabled": os.environ.get("MEBUKU_API_FUZZ_COVERAGE") == "1"},
            "stateful": {"enabled": False},
        },
    }
)


@dataclass
class World:
    """Real objects the generated ids are folded onto."""

    ids: dict[str, list[int]]
    tokens: dict[str, str | None]
    turn: int = 0


@pytest.fixture
def world(db: None) -> World:
    town: Municipality = MunicipalityFactory(
        slug="maebashi", name="前橋市", name_en="Maebashi", code="102016"
    )
    resident = verified(town, birth=date(1980, 4, 1))
    office = staff(town, Role.ADMINISTRATOR)
    grant(office, town, Role.ELECTION_OFFICE)
    grant(office, town, Role.MODERATOR)
    grant(office, town, Role.COUNCIL)
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=resident,
        collecting=True,
    )
    diverging = DebateFactory(
        municipality=town,
        created_by=office,
        phases=(
            "diverge",
            "converge",
        ),
    )
    contribution = Contribution.objects.create(debate=diverging, author=resident, body="案")
    comment_add(actor=resident, contribution_id=contribution.pk, body="賛成")
    converging = DebateFactory(
        municipality=town,
        created_by=office,
        phases=(
            "converge",
            "conclude",
        ),
    )
    statement: Statement = statement_create_from_contributions(
        actor=office, debate_id=converging.pk, text="屋根を"
    )
    keys = [generate_key(TestStream(f"trustee-key-{i}")) for i in range(2)]
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=[UserFactory() for _ in keys], keys=keys
    )
    voting_services.election_freeze(actor=office, municipality=town, election_id=election.pk)
    missing = 2_000_000_000
    return World(
        ids={
            "proposal_id": [proposal.pk, missing],
            "debate_id": [diverging.pk, converging.pk, missing],
            "contribution_id": [contribution.pk, missing],
            "statement_id": [statement.pk, missing],
            "election_id": [election.pk, missing],
            "assignment_id": [
                *RoleAssignment.objects.filter(user=office).values_list("pk", flat=True)[:1],
                missing,
            ],
        },
        tokens={
            "anonymous": None,
            "resident": session_token(resident),
            "staff": session_token(office),
        },
    )


@pytest.fixture
def wsgi_app(world: World) -> Iterator[Any]:
    """The site's WSGI application, called in this process. As Django's test client does,
    connections are not closed at the end of each request: they hold the test's transaction."""
    from config.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# The schema the API serves at /api/v1/openapi.json (test_the_served_schema_is_this_one).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)


@pytest.mark.django_db
def test_the_served_schema_is_this_one(client: Client) -> None:
    served = client.get("/api/v1/openapi.json").json()
    assert served == json.loads(json.dumps(api.get_openapi_schema()))


def _aim(case: Case, world: World) -> None:
    """Aim generated ids at real objects, in turn (and at one missing); keep what is not an id
    (invalid input) as it is."""
    parameters = case.path_parameters or {}
    if "slug" in parameters:  # unknown municipalities: tests/*/test_api.py
        parameters["slug"] = "maebashi"
    world.turn += 1
    for name, value in parameters.items():
        choices = world.ids.get(name)
        if choices and isinstance(value, int) and not isinstance(value, bool):
            parameters[name] = choices[world.turn % len(choices)]


@pytest.mark.postgres
@pytest.mark.slow
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one world per operation
def test_the_api_conforms_to_its_schema_whoever_calls(
    case: Case, world: World, wsgi_app: Any
) -> None:
    _aim(case, world)
    for caller, token in world.tokens.items():
        # The caller's name is for the failure report (its `curl` line); the app ignores it.
        headers = {"Accept-Language": "en", "X-Test-Caller": caller}
        if token is not None:
            headers["X-Session-Token"] = token
        case.call_and_validate(headers=headers, checks=CHECKS, app=wsgi_app)


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    spec = json.loads(json.dumps(api.get_openapi_schema()))
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_declares_the_errors_its_shape_can_give() -> None:
    """404 for a municipality's path, 401 behind sign-in and 403 for its writes (CSRF), 400 for a
    JSON body, 422 for anything validated; all in the error shape (`code`, `message`)."""
    for path, method, operation in _operations():
        parameters = operation.get("parameters", [])
        expected = set()
        if "{slug}" in path:
            expected.add("404")
        if operation.get("security"):
            expected.add("401")
            if method != "get":
                expected.add("403")
        if operation.get("requestBody"):
            expected |= {"400", "422"}
        if any(p["in"] == "query" or p["schema"].get("type") == "integer" for p in parameters):
            expected.add("422")
        responses = operation["responses"]
        assert expected <= set(responses), (method, path, expected - set(responses))
        for status, response in responses.items():
            if int(status) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in {"ErrorOut", "InvalidOut", "RejectedOut"}


def test_no_two_schemas_share_a_name() -> None:
    """OpenAPI names a component after its class: two classes of one name would collapse into
    one (as identity's and voting's `EligibilityOut` did)."""
    modules: dict[str, set[str]] = {}

    def walk(cls: type[Schema]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in {
                "config",
                "identity",
                "proposals",
                "debates",
                "voting",
            }:
                modules.setdefault(sub.__name__, set()).add(sub.__module__)
            walk(sub)

    walk(Schema)
    assert {name: found for name, found in modules.items() if len(found) > 1} == {}
