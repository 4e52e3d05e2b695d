"""Who reaches what: every route of the URLconf and every operation of the OpenAPI schema, asked
by every kind of caller, against the one status written here for it (issue #13, point 8).

The world is the demo data (`seed_demo`: two municipalities, staff with two-step verification,
residents, a proposal in every state, a debate in every phase, a finished and an open election),
made through the services, plus the staff of A without two-step verification and a draft
election. Every object requested belongs to municipality A; HTML pages are requested under A's
path (`/m/maebashi/…`), the API under A's slug.

Requests: a row named `GET …` is asked with GET; a route that only takes POST has a `POST …` row,
asked with an empty form (pages: CSRF is not enforced here, since the point is the permission
answer; test_no_page_takes_a_post_without_the_csrf_check shows Django checks the token on every
page), with the few fields some forms need to reach their permission check; or, for the API,
with the smallest body its schema accepts (ninja validates a body before the endpoint can
refuse the caller, so an empty body would only ever show 422). Each request runs inside a
savepoint rolled back afterwards, so a POST that an allowed caller makes (revoking a role,
freezing an election) never changes what the next caller sees.

A route or operation without a row, or a row for one that no longer exists, fails the suite; a
failure prints the rows as they are now, to compare (never to paste without reading each one).
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import functools
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.api import api
from debates.models import Comment, Contribution, Debate, Report, Statement
from identity.demo import DEMO_PASSWORD
from identity.errors import Conflict
from identity.models import Municipality, Role, RoleAssignment, User, Verification
from identity.totp import totp_code, totp_secret_of
from proposals import services as proposal_services
from proposals.models import (
    CouncilDocument,
    Objection,
    Proposal,
    ProposalType,
    Signature,
    Status,
)
from proposals.services import signature_add
from tests.factories import (
    ElectionFactory,
    ProposalFactory,
    ProposalTypeFactory,
    enable_totp,
    session_token,
    staff,
)
from voting import demo as voting_demo
from voting import services as voting_services
from voting.models import Ballot, BallotKind, Election, Trustee

# The callers, in the order of a row's cells (spaces in a row are only for the eye):
#   a u r b   anonymous, signed in but unverified, verified resident of A, resident of B
#   ACEMK     A's administrator, council, election office, moderator, counter clerk (with MFA)
#   acemk     the same five roles of A, without two-step verification
#   ACEMK     B's five staff (with MFA)
#   t o       a trustee of A's elections, the site operator (superuser, signed in through
#             allauth with two-step verification; the others are signed in directly)
ROLES = (Role.ADMINISTRATOR, Role.COUNCIL, Role.ELECTION_OFFICE, Role.MODERATOR, Role.COUNTER_CLERK)
CALLERS = (
    "anonymous",
    "unverified",
    "resident_a",
    "resident_b",
    *(f"{role}_a" for role in ROLES),
    *(f"{role}_a_no_mfa" for role in ROLES),
    *(f"{role}_b" for role in ROLES),
    "trustee",
    "operator",
)
GROUPS = (4, 5, 5, 5, 1, 1)  # how a row's cells are spaced

# What a cell says.
CODES = {
    200: "o",
    201: "o",
    204: "o",
    400: "b",
    401: "u",
    403: "f",
    404: "n",
    405: "x",
    409: "c",
    410: "g",
    422: "v",
}
TO_LOGIN = "L"  # a redirect to sign in (allauth's page, or the admin's, which forwards there)
TO_MFA = "M"  # a redirect to set up two-step verification
ELSEWHERE = "r"  # any other redirect (done, or nothing to do here)
REFUSED = "e"  # a redirect carrying an error message (the page it leads to says why)
LEGEND = (
    "o 200/201/204, r redirect, e redirect with an error message, L redirect to sign in, "
    "M redirect to two-step setup, b 400, u 401, f 403, n 404, x 405, c 409, g 410, v 422"
)


# The routes not in the table, each with its reason (globs over route names or patterns).
SKIPPED = {
    "headless:*": (
        "allauth's headless app API: allauth's own sign-in, sign-up and two-step flows for "
        "apps, which hand out the session token the API accepts (tests/identity/"
        "test_session_tokens.py); no page or operation of ours"
    ),
    "admin:*_add": (
        "the admin's per-model pages sit behind the same AdminSite.admin_view gate as the "
        "model's changelist (the `admin:*_changelist` row); which models may be added, changed "
        "or deleted is each ModelAdmin's business (tests/*/test_admin.py)"
    ),
    "admin:*_change": "as `admin:*_add`",
    "admin:*_delete": "as `admin:*_add`",
    "admin:*_history": "as `admin:*_add`",
    "django-admin/*/<path:object_id>/": "the admin's old-style redirect to `admin:*_change`",
    "_allauth/app/v1/auth/2fa/authenticate": (
        "allauth's headless two-step stage (as `headless:*`), routed to our subclass only to add "
        "the lockout (tests/security/test_lockout.py)"
    ),
}

# The table: a row per route, `METHOD name cells` (a glob name answers for every route it
# matches, each of which is requested), then a row per API operation, `METHOD path cells`, the
# path as in the schema with `~` for `/municipalities/{slug}`. Lines starting with # are for
# the eye.
MATRIX = """
# Identity: home, account, verification, staff pages, the counter
#                                               aurb ACEMK acemk ACEMK t o
GET    identity:home                            oooo ooooo ooooo ooooo o o
GET    identity:healthz                         oooo ooooo ooooo ooooo o o
GET    identity:account                         Looo ooooo ooooo ooooo o o
GET    identity:account_export_json             Lrrr rrrrr rrrrr rrrrr r r
GET    identity:account_export_csv              Lrrr rrrrr rrrrr rrrrr r r
GET    identity:account_delete                  Looo ooooo ooooo ooooo o o
GET    identity:favicon                         rrrr rrrrr rrrrr rrrrr r r
GET    identity:opendata                        oooo ooooo ooooo ooooo o o
GET    identity:opendata_zip                    oooo ooooo ooooo ooooo o o
GET    identity:staff                           Lfff ooooo MMMMM fffff f f
GET    identity:roles                           Lfff offff Mffff fffff f f
GET    identity:settings                        Lfff offff Mffff fffff f f
POST   identity:role_revoke                     Lfff rffff Mffff fffff f f
GET    identity:audit                           Lfff offff Mffff fffff f f
GET    identity:audit_csv                       Lfff offff Mffff fffff f f
GET    identity:register_import                 Lfff ofoff MfMff fffff f f
GET    identity:verify_register                 Looo ooooo ooooo ooooo o o
GET    identity:oidc_verify                     Looo ooooo ooooo ooooo o o
GET    identity:oidc_done                       Lrrr rrrrr rrrrr rrrrr r r
GET    identity:identity_provider               Lfff offff Mffff fffff f f
GET    identity:my_verification                 Looo ooooo ooooo ooooo o o
GET    identity:counter                         Lfff offfo MfffM fffff f f
GET    identity:counter_account_create          Lfff offfo MfffM fffff f f
GET    identity:counter_person                  Lfff offfo MfffM fffff f f
POST   identity:counter_verify                  Lfff vfffv MfffM fffff f f
GET    identity:counter_letter                  Lfff efffe MfffM fffff f f
POST   identity:counter_revoke                  Lfff efffe MfffM fffff f f

# Proposals                                     aurb ACEMK acemk ACEMK t o
GET    proposals:list                           oooo ooooo ooooo ooooo o o
GET    proposals:csv                            oooo ooooo ooooo ooooo o o
GET    proposals:answers_csv                    oooo ooooo ooooo ooooo o o
GET    proposals:daily_csv                      oooo ooooo ooooo ooooo o o
GET    proposals:signatories_csv                Lfff ffoff ffMff fffff f f
GET    proposals:new                            Looo ooooo ooooo ooooo o o
GET    proposals:detail                         oooo ooooo ooooo ooooo o o
POST   proposals:sign                           Lere eeeee eeeee eeeee e e
POST   proposals:withdraw_signature             Lere eeeee eeeee eeeee e e
POST   proposals:open                           Leee eeeee eeeee eeeee e e
POST   proposals:follow                         Lrrr rrrrr rrrrr rrrrr r r
POST   proposals:unfollow                       Lrrr rrrrr rrrrr rrrrr r r
POST   proposals:committee_invite               Lvvv vvvvv vvvvv vvvvv v v
POST   proposals:committee_accept               Leee eeeee eeeee eeeee e e
POST   proposals:committee_decline              Leee eeeee eeeee eeeee e e
GET    proposals:collectors                     Lnnn nnnnn nnnnn nnnnn n n
POST   proposals:collector_revoke               Lnnn nnnnn nnnnn nnnnn n n
GET    proposals:sheets                         Leee eeoee eeeee eeeee e e
GET    proposals:staff_demands                  Lfff ffoff ffMff fffff f f
GET    proposals:staff_demand                   Lfff ffoff ffMff fffff f f
POST   proposals:staff_certificate_issue        Lfff ffeff ffMff fffff f f
GET    proposals:staff_blackouts                Lfff ffoff ffMff fffff f f
GET    proposals:chart_narrow                   oooo ooooo ooooo ooooo o o
GET    proposals:chart_wide                     oooo ooooo ooooo ooooo o o
GET    proposals:document                       nnnn oonnn nnnnn nnnnn n n
GET    proposals:edit                           Lnnn nnnnn nnnnn nnnnn n n
POST   proposals:withdraw                       Leee eeeee eeeee eeeee e e
POST   proposals:close                          Leee eeeee eeeee eeeee e e
POST   proposals:objection_file                 Lvrv vvvvv vvvvv vvvvv v v
GET    proposals:staff_types                    Lfff offff Mffff fffff f f
GET    proposals:staff_type_new                 Lfff offff Mffff fffff f f
GET    proposals:staff_type_edit                Lfff offff Mffff fffff f f
GET    proposals:staff_register                 Lfff ffoff ffMff fffff f f
GET    proposals:staff_register_edit            Lfff ffoff ffMff fffff f f
GET    proposals:staff_certification            Lfff ffoff ffMff fffff f f
GET    proposals:staff_certification_detail     Lfff ffoff ffMff fffff f f
POST   proposals:staff_signature_invalidate     Lfff ffeff ffMff fffff f f
POST   proposals:staff_certification_publish    Lfff ffeff ffMff fffff f f
POST   proposals:staff_objection_answer         Lfff ffeff ffMff fffff f f
POST   proposals:staff_certification_finalize   Lfff ffeff ffMff fffff f f
GET    proposals:staff_council                  Lfff fofff fMfff fffff f f
GET    proposals:staff_council_overdue          Lfff fofff fMfff fffff f f
GET    proposals:staff_council_detail           Lfff fofff fMfff fffff f f
POST   proposals:staff_council_review           Lfff fefff fMfff fffff f f
POST   proposals:staff_council_clarify          Lfff fvfff fMfff fffff f f
POST   proposals:staff_council_document         Lfff fvfff fMfff fffff f f
POST   proposals:staff_council_answer           Lfff fvfff fMfff fffff f f
GET    proposals:staff_paper                    Lfff ffffo ffffM fffff f f

# Debates                                       aurb ACEMK acemk ACEMK t o
GET    debates:list                             oooo ooooo ooooo ooooo o o
GET    debates:detail                           oooo ooooo ooooo ooooo o o
POST   debates:contribute                       Lvrv vvvvv vvvvv vvvvv v v
POST   debates:comment                          Lere eeeee eeeee eeeee e e
POST   debates:react                            Lere eeeee eeeee eeeee e e
GET    debates:report_contribution              Looo ooooo ooooo ooooo o o
GET    debates:report_comment                   Looo ooooo ooooo ooooo o o
POST   debates:vote                             Lere eeeee eeeee eeeee e e
POST   debates:propose                          Lvrv vvvvv vvvvv vvvvv v v
GET    debates:opinions                         oooo ooooo ooooo ooooo o o
GET    debates:contributions_csv                oooo ooooo ooooo ooooo o o
GET    debates:statements_csv                   oooo ooooo ooooo ooooo o o
GET    debates:votes_csv                        oooo ooooo ooooo ooooo o o
GET    debates:summary_csv                      oooo ooooo ooooo ooooo o o
GET    debates:staff_new                        Lfff fffof fffMf fffff f f
GET    debates:staff_home                       Lfff fffof fffMf fffff f f
GET    debates:staff_phases                     Lfff fffof fffMf fffff f f
POST   debates:staff_advance                    Lfff fffrf fffMf fffff f f
GET    debates:staff_hide_contribution          Lfff fffof fffMf fffff f f
GET    debates:staff_hide_comment               Lfff fffof fffMf fffff f f
POST   debates:staff_report_resolve             Lfff fffrf fffMf fffff f f
GET    debates:staff_statements                 Lfff fffof fffMf fffff f f
POST   debates:staff_statement_publish          Lfff fffef fffMf fffff f f
POST   debates:staff_statement_reject           Lfff fffef fffMf fffff f f
POST   debates:staff_statement_edit             Lfff fffef fffMf fffff f f
GET    debates:staff_similar                    Lfff fffof fffMf fffff f f
POST   debates:staff_merge                      Lfff fffvf fffMf fffff f f
GET    debates:staff_conclusion                 Lfff fffof fffMf fffff f f
POST   debates:staff_proposal_draft             Lfff fffef fffMf fffff f f

# Elections                                     aurb ACEMK acemk ACEMK t o
GET    voting:list                              oooo ooooo ooooo ooooo o o
GET    voting:mine                              Looo ooooo ooooo ooooo o o
GET    voting:detail                            oooo ooooo ooooo ooooo o o
GET    voting:vote                              Lfof fffff fffff fffff f f
GET    voting:board                             oooo ooooo ooooo ooooo o o
GET    voting:audited_ballot                    oooo ooooo ooooo ooooo o o
GET    voting:results                           oooo ooooo ooooo ooooo o o
GET    voting:record                            oooo ooooo ooooo ooooo o o
GET    voting:results_csv                       oooo ooooo ooooo ooooo o o
GET    voting:board_csv                         oooo ooooo ooooo ooooo o o
GET    voting:trustee                           Lfff fffff fffff fffff o f
POST   voting:trustee_key                       Lfff fffff fffff fffff v f
GET    voting:trustee_tally                     Lfff fffff fffff fffff e f
POST   voting:trustee_factors                   Lfff fffff fffff fffff v f
GET    voting:office_list                       Lfff ffoff ffMff fffff f f
GET    voting:office_new                        Lfff ffoff ffMff fffff f f
GET    voting:office_detail                     Lfff ffoff ffMff fffff f f
GET    voting:office_edit                       Lfff ffoff ffMff fffff f f
GET    voting:office_questions                  Lfff ffoff ffMff fffff f f
POST   voting:office_trustee_appoint            Lfff ffvff ffMff fffff f f
POST   voting:office_trustee_remove             Lfff ffrff ffMff fffff f f
GET    voting:office_freeze                     Lfff ffoff ffMff fffff f f
GET    voting:office_roll_report                Lfff ffoff ffMff fffff f f
POST   voting:office_close                      Lfff ffrff ffMff fffff f f
POST   voting:office_tally                      Lfff ffeff ffMff fffff f f
POST   voting:office_publish                    Lfff ffeff ffMff fffff f f

# allauth: accounts, two-step verification, municipal ID (OIDC)
#                                               aurb ACEMK acemk ACEMK t o
GET    account_login                            orrr rrrrr rrrrr rrrrr r r
GET    account_logout                           rooo ooooo ooooo ooooo o o
GET    account_inactive                         oooo ooooo ooooo ooooo o o
GET    account_signup                           orrr rrrrr rrrrr rrrrr r r
GET    account_reauthenticate                   Looo ooooo ooooo ooooo o o
GET    account_request_reauthentication_code    Looo ooooo ooooo ooooo o o
GET    account_confirm_reauthentication_code    Lrrr rrrrr rrrrr rrrrr r r
GET    account_email                            Looo ooooo ooooo ooooo o o
GET    account_email_verification_sent          oooo ooooo ooooo ooooo o o
GET    account_change_password                  Looo ooooo ooooo ooooo o o
GET    account_set_password                     Lrrr rrrrr rrrrr rrrrr r r
GET    account_reset_password                   oooo ooooo ooooo ooooo o o
GET    account_confirm_login_code               Lrrr rrrrr rrrrr rrrrr r r
GET    account_confirm_email                    oooo ooooo ooooo ooooo o o
GET    account_reset_password_from_key_done     oooo ooooo ooooo ooooo o o
GET    account_reset_password_from_key          oooo ooooo ooooo ooooo o o
GET    account_reset_password_done              oooo ooooo ooooo ooooo o o
GET    mfa_index                                Looo ooooo ooooo ooooo o o
GET    mfa_authenticate                         Lrrr rrrrr rrrrr rrrrr r r
GET    mfa_reauthenticate                       Lrrr ooooo rrrrr ooooo r o
GET    mfa_activate_totp                        Lrrr rrrrr rrrrr rrrrr r r
GET    mfa_deactivate_totp                      Lnnn rrrrr nnnnn rrrrr n r
GET    mfa_view_recovery_codes                  Lnnn nnnnn nnnnn nnnnn n n
GET    mfa_generate_recovery_codes              Lrrr rrrrr rrrrr rrrrr r r
GET    mfa_download_recovery_codes              Lnnn nnnnn nnnnn nnnnn n n
GET    mfa_list_webauthn                        Looo ooooo ooooo ooooo o o
GET    mfa_add_webauthn                         Lrrr rrrrr rrrrr rrrrr r r
GET    mfa_reauthenticate_webauthn              Lrrr rrrrr rrrrr rrrrr r r
GET    mfa_remove_webauthn                      Lrrr rrrrr rrrrr rrrrr r r
GET    mfa_edit_webauthn                        Lrrr rrrrr rrrrr rrrrr r r
GET    socialaccount_login_cancelled            oooo ooooo ooooo ooooo o o
GET    socialaccount_login_error                uuuu uuuuu uuuuu uuuuu u u
GET    socialaccount_signup                     LLLL LLLLL LLLLL LLLLL L L
GET    socialaccount_connections                Looo ooooo ooooo ooooo o o
GET    accounts/social/login/cancelled/         rrrr rrrrr rrrrr rrrrr r r
GET    accounts/social/login/error/             rrrr rrrrr rrrrr rrrrr r r
GET    accounts/social/signup/                  rrrr rrrrr rrrrr rrrrr r r
GET    accounts/social/connections/             rrrr rrrrr rrrrr rrrrr r r
GET    openid_connect_login                     nnnn nnnnn nnnnn nnnnn n n
GET    openid_connect_callback                  nnnn nnnnn nnnnn nnnnn n n

# The rest: language, metrics, the API's own pages
#                                               aurb ACEMK acemk ACEMK t o
GET    set_language                             rrrr rrrrr rrrrr rrrrr r r
GET    api:openapi-json                         oooo ooooo ooooo ooooo o o
GET    api:openapi-view                         oooo ooooo ooooo ooooo o o
GET    api:api-root                             nnnn nnnnn nnnnn nnnnn n n
GET    ^api/v1/(?P<rest>.*)$                    nnnn nnnnn nnnnn nnnnn n n
GET    metrics                                  nnnn nnnnn nnnnn nnnnn n n

# The operator's Django admin                   aurb ACEMK acemk ACEMK t o
GET    admin:index                              LLLL LLLLL LLLLL LLLLL L o
GET    admin:*_changelist                       LLLL LLLLL LLLLL LLLLL L o
GET    admin:login                              LLLL LLLLL LLLLL LLLLL L L
POST   admin:logout                             rrrr rrrrr rrrrr rrrrr r r
GET    admin:password_change_done               LLLL LLLLL LLLLL LLLLL L o
GET    admin:autocomplete                       LLLL LLLLL LLLLL LLLLL L f
GET    admin:jsi18n                             LLLL LLLLL LLLLL LLLLL L o
GET    admin:app_list                           LLLL LLLLL LLLLL LLLLL L o
GET    django-admin/(?P<url>.*)$                LLLL LLLLL LLLLL LLLLL L n

# API: identity                                                       aurb ACEMK acemk ACEMK t o
GET    /me                                                            uooo ooooo ooooo ooooo o o
GET    /municipalities                                                oooo ooooo ooooo ooooo o o
GET    ~                                                              oooo ooooo ooooo ooooo o o
GET    ~/eligibility                                                  uooo ooooo ooooo ooooo o o
GET    ~/my-elections                                                 uooo ooooo ooooo ooooo o o
GET    ~/roles                                                        ufff offff fffff fffff f f
POST   ~/roles                                                        ufff offff fffff fffff f f
DELETE ~/roles/{assignment_id}                                        ufff offff fffff fffff f f
GET    ~/verification                                                 uooo ooooo ooooo ooooo o o

# API: proposals                                                      aurb ACEMK acemk ACEMK t o
GET    ~/answers                                                      oooo ooooo ooooo ooooo o o
GET    ~/proposal-types                                               oooo ooooo ooooo ooooo o o
GET    ~/proposals                                                    oooo ooooo ooooo ooooo o o
POST   ~/proposals                                                    ufof fffff fffff fffff f f
GET    ~/proposals/{proposal_id}                                      oooo ooooo ooooo ooooo o o
PATCH  ~/proposals/{proposal_id}                                      ufff fffff fffff fffff f f
POST   ~/proposals/{proposal_id}/answer                               ufff fvfff fffff fffff f f
GET    ~/proposals/{proposal_id}/daily                                oooo ooooo ooooo ooooo o o
POST   ~/proposals/{proposal_id}/open                                 ufff fffff fffff fffff f f
POST   ~/proposals/{proposal_id}/signature                            ufof fffff fffff fffff f f
DELETE ~/proposals/{proposal_id}/signature                            unon nnnnn nnnnn nnnnn n n

# API: debates                                                        aurb ACEMK acemk ACEMK t o
GET    ~/debates                                                      oooo ooooo ooooo ooooo o o
GET    ~/debates/{debate_id}                                          oooo ooooo ooooo ooooo o o
GET    ~/debates/{debate_id}/contributions                            oooo ooooo ooooo ooooo o o
POST   ~/debates/{debate_id}/contributions                            ufof fffff fffff fffff f f
GET    ~/debates/{debate_id}/contributions/{contribution_id}/comments oooo ooooo ooooo ooooo o o
POST   ~/debates/{debate_id}/contributions/{contribution_id}/comments ufof fffff fffff fffff f f
POST   ~/debates/{debate_id}/contributions/{contribution_id}/reaction ufof fffff fffff fffff f f
DELETE ~/debates/{debate_id}/contributions/{contribution_id}/reaction ufof fffff fffff fffff f f
GET    ~/debates/{debate_id}/phases                                   oooo ooooo ooooo ooooo o o
GET    ~/debates/{debate_id}/report                                   oooo ooooo ooooo ooooo o o
POST   ~/debates/{debate_id}/reports                                  uooo ooooo ooooo ooooo o o
GET    ~/debates/{debate_id}/statements                               oooo ooooo ooooo ooooo o o
POST   ~/debates/{debate_id}/statements                               ufof fffff fffff fffff f f
GET    ~/debates/{debate_id}/statements/next                          oooo ooooo ooooo ooooo o o
POST   ~/debates/{debate_id}/statements/{statement_id}/vote           ufof fffff fffff fffff f f

# API: elections                                                      aurb ACEMK acemk ACEMK t o
GET    ~/elections                                                    oooo ooooo ooooo ooooo o o
GET    ~/elections/{election_id}                                      oooo ooooo ooooo ooooo o o
GET    ~/elections/{election_id}/audited                              oooo ooooo ooooo ooooo o o
POST   ~/elections/{election_id}/audits                               ufvf fffff fffff fffff f f
GET    ~/elections/{election_id}/ballot-context                       ufof fffff fffff fffff f f
POST   ~/elections/{election_id}/ballots                              ufvf fffff fffff fffff f f
GET    ~/elections/{election_id}/board                                oooo ooooo ooooo ooooo o o
GET    ~/elections/{election_id}/eligibility                          uooo ooooo ooooo ooooo o o
GET    ~/elections/{election_id}/record.json                          oooo ooooo ooooo ooooo o o
GET    ~/elections/{election_id}/results                              oooo ooooo ooooo ooooo o o
"""

TILDE = "/municipalities/{slug}"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _parse(text: str) -> tuple[dict[str, str], dict[str, str]]:
    pages: dict[str, str] = {}
    operations: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, name, *cells = line.split()
        assert method in METHODS, line
        table = operations if name.startswith(("/", "~")) else pages
        key = f"{method} {name.replace('~', TILDE, 1)}"
        assert key not in table, f"two rows for {key}"
        table[key] = " ".join(cells)
    return pages, operations


PAGES, API = _parse(MATRIX)


# Routes -----------------------------------------------------------------------------------------

MUNICIPAL = frozenset({"identity", "proposals", "debates", "voting"})


@dataclass(frozen=True)
class Route:
    name: str  # namespaced; the full pattern when the route has no name
    pattern: str
    params: tuple[str, ...]
    municipal: bool
    csrf_exempt: bool


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespaces: tuple[str, ...]
) -> Iterator[Route]:
    for entry in patterns:
        params = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            for route in _walk(entry.url_patterns, prefix + str(entry.pattern), inner):
                yield replace(route, params=params + route.params)
        else:
            pattern = prefix + str(entry.pattern)
            name = ":".join((*namespaces, entry.name)) if entry.name else pattern
            municipal = bool(namespaces) and namespaces[0] in MUNICIPAL
            exempt = bool(getattr(entry.callback, "csrf_exempt", False))
            yield Route(name, pattern, params, municipal, exempt)


def _openapi_path(pattern: str) -> str:
    """`api/v1/municipalities/<slug>/roles` → `/municipalities/{slug}/roles`."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)
    return "/" + path.removeprefix("api/v1/")


@functools.cache
def _spec() -> dict[str, Any]:
    """The schema the API serves at /api/v1/openapi.json (tests/test_api_conformance.py)."""
    spec: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema()))
    return spec


def _operations() -> dict[str, dict[str, Any]]:
    """`METHOD /path` → the operation, for every operation in the schema."""
    spec = _spec()
    found = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            found[f"{method.upper()} {path.removeprefix('/api/v1')}"] = operation
    return found


def _skip_reason(route: Route) -> str | None:
    for glob, reason in SKIPPED.items():
        if fnmatch.fnmatchcase(route.name, glob) or fnmatch.fnmatchcase(route.pattern, glob):
            return reason
    return None


def _is_operation(route: Route) -> bool:
    api_paths = {key.split(" ", 1)[1] for key in _operations()}
    return route.name.startswith("api:") and _openapi_path(route.pattern) in api_paths


def _routes() -> dict[str, Route]:
    """Every route the table must answer for, by name: not skipped, not an API operation (those
    have their own rows, one per method)."""
    routes: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns, "", ()):
        if _skip_reason(route) is not None or _is_operation(route):
            continue
        assert route.name not in routes, f"two routes named {route.name}"
        routes[route.name] = route
    return routes


def _row_for(name: str) -> str | None:
    """The row that answers for the route `name`: its own, or the one glob row matching it."""
    for method in ("GET", "POST"):
        if f"{method} {name}" in PAGES:
            return f"{method} {name}"
    globs = [key for key in PAGES if "*" in key and fnmatch.fnmatchcase(name, key.split()[1])]
    assert len(globs) <= 1, f"{name} matches {globs}"
    return globs[0] if globs else None


def _cells(row: str) -> str:
    return row.replace(" ", "")


def _spaced(cells: str) -> str:
    parts, start = [], 0
    for size in GROUPS:
        parts.append(cells[start : start + size])
        start += size
    return " ".join(parts)


# The world ----------------------------------------------------------------------------------------

MISSING = 2_000_000_000  # an id no row has


@dataclass
class World:
    slug: str
    values: dict[str, Any]  # route parameter → the object of A it names, by default
    # route or operation glob → the parameters it needs other than the defaults (an object in
    # another state: a council page names a proposal the council has, and so on)
    overrides: dict[str, dict[str, Any]]
    # route → the form a POST sends (pages whose empty form every caller gets back as 422, which
    # would hide who may act); operation → the body fields beyond the smallest the schema takes
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=dict)

    def params(self, key: str) -> dict[str, Any]:
        found = dict(self.values)
        for glob, values in self.overrides.items():
            if fnmatch.fnmatchcase(key, glob):
                found.update(values)
        return found


def _get(model: type[Any], **lookup: Any) -> int:
    return int(model.objects.filter(**lookup).order_by("pk").values_list("pk", flat=True)[0])


def _sign_in_with_two_steps(client: Client, user: User, secret: str) -> None:
    """As the operator signs in: allauth's form, then the authenticator's code (the admin has
    no sign-in of its own, identity/admin_site.py)."""
    first = client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})
    assert first.status_code == 302 and first["Location"] == reverse("mfa_authenticate")
    second = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert second.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Any) -> World:
    call_command("seed_demo", stdout=io.StringIO())
    a = Municipality.objects.get(slug="maebashi")
    b = Municipality.objects.get(slug="kamakura")

    def user(local: str, town: Municipality = a) -> User:
        return User.objects.get(email=f"{local}@{town.slug}.example.jp")

    staff_local = {
        Role.ADMINISTRATOR: "admin",
        Role.COUNCIL: "council",
        Role.ELECTION_OFFICE: "election",
        Role.MODERATOR: "moderator",
        Role.COUNTER_CLERK: "counter",
    }
    operator = User.objects.get(email="operator@example.jp")
    operator_secret = (
        totp_secret_of(operator) if is_mfa_enabled(operator) else enable_totp(operator)
    )
    callers: dict[str, User | None] = {
        "anonymous": None,
        "unverified": user("unverified"),
        "resident_a": user("resident01"),
        "resident_b": user("resident01", b),
        **{f"{role}_a": user(staff_local[role]) for role in ROLES},
        **{f"{role}_a_no_mfa": staff(a, role, mfa=False) for role in ROLES},
        **{f"{role}_b": user(staff_local[role], b) for role in ROLES},
        "trustee": user("trustee1"),
        "operator": operator,
    }
    assert tuple(callers) == CALLERS

    office = user("election")
    draft = ElectionFactory(municipality=a, created_by=office, title="草案の選挙")
    trustee = voting_services.trustee_appoint(
        actor=office, municipality=a, election_id=draft.pk, email=user("trustee2").email
    )
    finished = Election.objects.get(municipality=a, title=voting_demo.FINISHED_TITLE)
    opened = Election.objects.get(municipality=a, title=voting_demo.OPEN_TITLE)
    # A council document of a proposal under review: only A's council and administrators read it
    # before the answer is published.
    settings.MEDIA_ROOT = str(tmp_path)
    reviewed = CouncilDocument.objects.create(
        proposal_id=_get(Proposal, municipality=a, status=Status.UNDER_REVIEW),
        title="審査メモ",
        file=ContentFile(b"%PDF-1.4\n%%EOF\n", name="memo.pdf"),
        original_name="memo.pdf",
        size=14,
        uploaded_by=user("council"),
    )
    # A direct demand (art. 74) collecting, with its certificate and one collector; its
    # representative is nobody in the table, so representative-only pages refuse every caller.
    demand = ProposalFactory(
        type=ProposalTypeFactory(
            municipality=a,
            name="条例の制定改廃の直接請求",
            threshold_fixed=2,
            collection_days=30,
            certification_required=True,
            accepts_paper=True,
            direct_demand=True,
        ),
        author=user("resident06"),
    )
    proposal_services.representative_certificate_issue(
        actor=user("election"), municipality=a, proposal_id=demand.pk
    )
    proposal_services.collection_open(actor=demand.author, municipality=a, proposal_id=demand.pk)
    collector = proposal_services.collector_appoint(
        actor=demand.author,
        municipality=a,
        proposal_id=demand.pk,
        name="受任 太郎",
        address="前橋市大手町一丁目1番1号",
    )
    diverging = Debate.objects.get(municipality=a, question="駅前広場をどう使う？")
    converging = Debate.objects.get(municipality=a, question="公共交通の将来：何を優先すべき？")
    concluded = Debate.objects.get(municipality=a, question="図書館のこれから")
    certifying = _get(Proposal, municipality=a, status=Status.CERTIFICATION)
    person = user("resident02")
    # resident A's signature, to withdraw (on the proposal past its threshold: signing the one
    # still collecting stays resident A's to do)
    signed = _get(Proposal, municipality=a, status=Status.THRESHOLD_REACHED)
    with contextlib.suppress(Conflict):  # signed already in the demo
        signature_add(actor=callers["resident_a"], municipality=a, proposal_id=signed)
    contribution = _get(Contribution, debate=diverging)
    comment = _get(Comment, contribution__debate=diverging)
    if not Report.objects.filter(contribution__debate=diverging).exists():
        from debates.services import report_file

        report_file(
            actor=user("resident03"),
            target=Contribution.objects.get(pk=contribution),
            reason="荒らし",
        )
    if not Objection.objects.filter(proposal_id=certifying).exists():
        from proposals.services import objection_file

        objection_file(
            actor=user("resident04"),
            municipality=a,
            proposal_id=certifying,
            text="署名の数え方に異議があります。",
        )

    world = World(
        slug=a.slug,
        values={
            "slug": a.slug,
            "assignment_id": _get(RoleAssignment, municipality=a, role=Role.COUNCIL),
            "user_id": person.pk,
            "verification_id": _get(Verification, municipality=a, user=person),
            "proposal_id": _get(Proposal, municipality=a, status=Status.COLLECTING),
            "type_id": _get(ProposalType, municipality=a, certification_required=True),
            "signature_id": _get(Signature, proposal_id=certifying),
            "objection_id": _get(Objection, proposal_id=certifying),
            "debate_id": diverging.pk,
            "contribution_id": contribution,
            "comment_id": comment,
            "report_id": _get(Report, contribution__debate=diverging),
            "statement_id": _get(Statement, debate=converging),
            "document_id": reviewed.pk,
            "collector_id": collector.pk,
            "election_id": opened.pk,
            "trustee_id": trustee.pk,
            "tracker": Ballot.objects.filter(election=finished, kind=BallotKind.AUDITED)
            .values_list("tracker", flat=True)
            .get(),
            # allauth's and the admin's own parameters
            "key": "nothing",
            "uidb36": "0",
            "pk": MISSING,
            "provider_id": "nothing",
            "content_type_id": ContentType.objects.get_for_model(Municipality).pk,
            "object_id": a.pk,
            "app_label": "identity",
            "url": "nothing/",
            "rest": "nothing",
        },
        overrides={
            "*:staff_certification*": {"proposal_id": certifying},
            "*:staff_signature_invalidate": {"proposal_id": certifying},
            "*:staff_objection_answer": {"proposal_id": certifying},
            "*:objection_file": {"proposal_id": certifying},
            "*:staff_council_review": {
                "proposal_id": _get(Proposal, municipality=a, status=Status.SUBMITTED)
            },
            "*:staff_council_*": {
                "proposal_id": _get(Proposal, municipality=a, status=Status.UNDER_REVIEW)
            },
            "*:committee_*": {
                "proposal_id": _get(Proposal, municipality=a, status=Status.COMMITTEE)
            },
            "*:open": {"proposal_id": _get(Proposal, municipality=a, status=Status.DRAFT)},
            "proposals:collector*": {"proposal_id": demand.pk},
            "proposals:sheets": {"proposal_id": demand.pk},
            "proposals:staff_demand": {"proposal_id": demand.pk},
            "proposals:staff_certificate_issue": {"proposal_id": demand.pk},
            "proposals:edit": {"proposal_id": _get(Proposal, municipality=a, status=Status.DRAFT)},
            "proposals:document": {"proposal_id": reviewed.proposal_id, "document_id": reviewed.pk},
            "debates:vote": {"debate_id": converging.pk},
            "debates:propose": {"debate_id": converging.pk},
            "debates:opinions": {"debate_id": converging.pk},
            "debates:staff_statement*": {"debate_id": converging.pk},
            "debates:statements_csv": {"debate_id": converging.pk},
            "debates:votes_csv": {"debate_id": converging.pk},
            "debates:summary_csv": {"debate_id": concluded.pk},
            "debates:staff_conclusion": {"debate_id": concluded.pk},
            "debates:staff_proposal_draft": {"debate_id": concluded.pk},
            "voting:results*": {"election_id": finished.pk},
            "voting:record": {"election_id": finished.pk},
            "voting:audited_ballot": {"election_id": finished.pk},
            "voting:office_edit": {"election_id": draft.pk},
            "voting:office_questions": {"election_id": draft.pk},
            "voting:office_trustee_*": {"election_id": draft.pk},
            "voting:office_freeze": {"election_id": draft.pk},
            "voting:office_publish": {"election_id": finished.pk},
            "* */statements/{statement_id}/vote": {"debate_id": converging.pk},
            "* */debates/{debate_id}/statements*": {"debate_id": converging.pk},
            "* */debates/{debate_id}/report": {"debate_id": converging.pk},
            "* */elections/{election_id}/results": {"election_id": finished.pk},
            "* */proposals/{proposal_id}/answer": {
                "proposal_id": _get(Proposal, municipality=a, status=Status.UNDER_REVIEW)
            },
            "DELETE */proposals/{proposal_id}/signature": {"proposal_id": signed},
            "proposals:withdraw_signature": {"proposal_id": signed},
            "* */elections/{election_id}/record.json": {"election_id": finished.pk},
            "* */elections/{election_id}/audited": {"election_id": finished.pk},
        },
    )
    world.forms = {
        "debates:contribute": {"body": "駐輪場を広げてほしい。"},
        "debates:comment": {"body": "賛成です。"},
        "debates:propose": {"text": "バスの本数を増やすべきだ。"},
        "debates:vote": {"choice": "agree"},
        "proposals:committee_invite": {"email": user("resident05").email},
        # a GET form: which collector's sheets, how many (asked as the query string)
        "proposals:sheets": {"collector": collector.pk, "sheets": 1},
        "proposals:objection_file": {"text": "署名の数え方に異議があります。"},
    }
    world.bodies = {
        f"POST {TILDE}/roles": {"email": user("resident05").email, "role": Role.COUNCIL},
        "POST /municipalities/{slug}/debates/{debate_id}/reports": {
            "contribution_id": contribution
        },
    }
    assert Trustee.objects.filter(election=opened, user=callers["trustee"]).exists()
    for caller, account in callers.items():
        client = Client(raise_request_exception=False)  # a crash is a cell ("E"), not the end
        if caller == "operator":
            _sign_in_with_two_steps(client, operator, operator_secret)
        elif account is not None:
            client.force_login(account)
        world.clients[caller] = client
        world.tokens[caller] = session_token(account) if account is not None else None
    return world


# Requests ---------------------------------------------------------------------------------------

LOGIN_PATHS = frozenset({"/accounts/login/", "/django-admin/login/"})
MFA_SETUP = "/accounts/2fa/totp/activate/"


def _cell(response: HttpResponseBase) -> str:
    status = response.status_code
    if 300 <= status < 400:
        target = re.sub(r"^/m/[-a-z0-9]+", "", urlsplit(response["Location"]).path)
        if target in LOGIN_PATHS:
            return TO_LOGIN
        if target == MFA_SETUP:
            return TO_MFA
        sent = get_messages(response.wsgi_request)
        return REFUSED if any(m.level >= messages.WARNING for m in sent) else ELSEWHERE
    if status >= 500:
        return "E"
    return CODES.get(status, "?")


OUTSIDE = "203.0.113.7"  # every request comes from elsewhere: /metrics answers loopback only


def _ask(
    client: Client,
    method: str,
    path: str,
    *,
    form: dict[str, Any] | None = None,
    body: Any = None,
    token: str | None = None,
) -> str:
    """One request, as a cell. Its writes are undone before the next request, and so is what it
    did to the client's cookies (the admin's logout would sign the caller out of every later
    row). A savepoint rather than an atomic block: the services' durable blocks refuse to nest
    in anything but the test's own transaction."""
    cookies = copy.deepcopy(client.cookies)
    headers = {"X-Session-Token": token} if token is not None else None
    savepoint = transaction.savepoint()
    try:
        if body is not None:
            data = json.dumps(body)
            response = client.generic(
                method,
                path,
                data,
                content_type="application/json",
                headers=headers,
                REMOTE_ADDR=OUTSIDE,
            )
        elif method == "POST":
            response = client.post(path, form or {}, headers=headers, REMOTE_ADDR=OUTSIDE)
        elif form is not None:
            response = client.get(path, form, headers=headers, REMOTE_ADDR=OUTSIDE)
        else:
            response = client.generic(method, path, headers=headers, REMOTE_ADDR=OUTSIDE)
        return _cell(response)
    finally:
        transaction.savepoint_rollback(savepoint)
        client.cookies = cookies


def _page_path(world: World, route: Route) -> str:
    params = world.params(route.name)
    kwargs = {name: params[name] for name in route.params}
    if route.name == route.pattern:  # unnamed: its pattern, filled in
        path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1]]), route.pattern)
        path = path.replace("^", "").replace("$", "")
    else:
        path = reverse(route.name, kwargs=kwargs)
    return f"/m/{world.slug}{path}" if route.municipal else path


def _smallest(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The smallest value `schema` accepts, as far as its shape goes (what it means is the
    endpoint's business, after the caller has been let in)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _smallest(spec["components"]["schemas"][name], spec)
    for choice in ("anyOf", "oneOf", "allOf"):
        if choice in schema:
            options = [s for s in schema[choice] if s.get("type") != "null"]
            return _smallest(options[0], spec)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _smallest(properties[name], spec) for name in schema.get("required", [])}
    if kind == "array":
        return [_smallest(schema["items"], spec) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    formats = {"date": "2026-04-01", "date-time": "2026-04-01T09:00:00+09:00"}
    if kind == "string" and schema.get("format") in formats:
        return formats[schema["format"]]
    if kind == "string" and schema.get("format") == "email":
        return "nobody@example.jp"
    return "x" * max(1, schema.get("minLength", 1))


def _operation_path(world: World, key: str) -> str:
    params = world.params(key)
    path = key.split(" ", 1)[1]
    return "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: str(params[m[1]]), path)


def _operation_body(world: World, key: str, operation: dict[str, Any]) -> Any:
    """The smallest body the operation's schema accepts, its ids naming the world's objects,
    with the fields `world.bodies` gives for it (a report names what it reports); None for an
    operation without a body."""
    declared = operation.get("requestBody")
    if declared is None:
        return None
    body = _smallest(declared["content"]["application/json"]["schema"], _spec())
    # an id the body must carry names the world's object, as a path's does (`type_id`)
    named = {name: world.params(key)[name] for name in body if name in world.values}
    return {**body, **named, **world.bodies.get(key, {})}


def _line(key: str, row: str) -> str:
    """A row as MATRIX writes it."""
    method, name = key.split(" ", 1)
    name = name.replace(TILDE, "~", 1)
    width = 62 if name.startswith(("/", "~")) else 40
    return f"{method:<6} {name:<{width}} {row}"


def _row(cells: list[str]) -> str:
    return _spaced("".join(cells))


# The tests --------------------------------------------------------------------------------------


def test_every_route_and_operation_has_one_row_and_every_row_a_route() -> None:
    routes = _routes()
    without = sorted(name for name in routes if _row_for(name) is None)
    assert without == [], f"routes without a row in PAGES (or a reason in SKIPPED): {without}"
    answered = {_row_for(name) for name in routes}
    assert sorted(set(PAGES) - answered) == [], "rows in PAGES for routes that no longer exist"
    operations = _operations()
    assert sorted(set(operations) - set(API)) == [], "API operations without a row in API"
    assert sorted(set(API) - set(operations)) == [], "rows in API for operations that are gone"
    for name in routes:
        both = [method for method in METHODS if f"{method} {name}" in PAGES]
        assert len(both) <= 1, f"{name} has rows for {both}: one method per route"
    for key, row in {**PAGES, **API}.items():
        cells = _cells(row)
        assert len(cells) == len(CALLERS), (key, row)
        assert set(cells) <= {*CODES.values(), TO_LOGIN, TO_MFA, ELSEWHERE, REFUSED}, (key, row)


def test_no_page_takes_a_post_without_the_csrf_check() -> None:
    """Why the matrix may post without a CSRF token: Django's middleware checks it on every page.
    Only the API's operations (which check it themselves for a signed-in browser, identity/
    api_auth.py) and allauth's headless app API (a session token, no cookie) are exempt."""
    exempt = [
        route.name
        for route in _walk(get_resolver().url_patterns, "", ())
        if route.csrf_exempt and not route.name.startswith("headless:")
        # allauth's app API, also where our subclass takes its two-step stage (config/urls.py)
        if not route.pattern.startswith("_allauth/app/")
        if not _is_operation(route)
    ]
    assert exempt == []


@pytest.mark.postgres
@pytest.mark.slow
def test_the_permission_matrix(world: World) -> None:
    """Every route and operation, asked by every caller, answers as its row says."""
    actual: dict[str, str] = {}
    for name, route in _routes().items():
        row = _row_for(name)
        method = row.split()[0] if row is not None else "GET"
        path = _page_path(world, route)
        form = world.forms.get(name)
        cells = [_ask(world.clients[c], method, path, form=form) for c in CALLERS]
        if row is None and "x" in cells:  # a new route that only takes POST: ask that way
            method = "POST"
            cells = [_ask(world.clients[c], method, path, form=form) for c in CALLERS]
        key = row if row is not None and "*" in row else f"{method} {name}"
        if key in actual and actual[key] != _row(cells):  # a glob row: each route must agree
            key = f"{method} {name}"
        actual[key] = _row(cells)
    caller = Client(raise_request_exception=False)  # the API: a token, or nothing
    for key, operation in _operations().items():
        method = key.split(" ", 1)[0]
        path = _operation_path(world, key)
        body = _operation_body(world, key, operation)
        cells = [_ask(caller, method, path, body=body, token=world.tokens[c]) for c in CALLERS]
        actual[f"API {key}"] = _row(cells)

    expected = {**PAGES, **{f"API {key}": row for key, row in API.items()}}
    wrong = {key: row for key, row in actual.items() if expected.get(key) != row}
    listing = "\n".join(_line(key.removeprefix("API "), row) for key, row in sorted(wrong.items()))
    assert not wrong, f"rows that differ ({LEGEND}); as they are now:\n{listing}"
