"""API endpoints: municipalities, the current user, roles, and the current person's verification
and eligibility."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from identity import permissions, selectors, services
from identity.api_auth import AUTH
from identity.eligibility import EligibilityRule, eligibility
from identity.errors import NotFound, PermissionDenied
from identity.idempotency import idempotent
from identity.models import Municipality, Role, RoleAssignment, User, VerificationMethod
from identity.verification_status import StatusName, verification_status

router = Router(tags=["identity"])


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable reason, e.g. `role_required`.")
    message: str


class InvalidOut(ErrorOut):
    """422: `invalid` with the failing fields in `errors`, or a domain reason code (`empty`, …)."""

    errors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="For `invalid`: each failing field, with its `loc`, `type` and `msg`.",
    )


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers an endpoint can give, for its `response={...}`: every status an endpoint
    returns is declared, all in the API's error shape. The usual ones: 400 an unreadable JSON body;
    401 not signed in; 403 a refusal with its reason code, or `csrf_failed` for a signed-in browser
    writing without the CSRF token; 404 an unknown municipality or object; 422 invalid input."""
    return {status: InvalidOut if status == 422 else ErrorOut for status in statuses}


class MunicipalityOut(Schema):
    slug: str
    name: str
    name_en: str
    code: str


class RoleOut(Schema):
    id: int
    municipality: str
    role: str
    user_email: str
    granted_at: datetime

    @staticmethod
    def from_assignment(assignment: RoleAssignment) -> RoleOut:
        return RoleOut(
            id=assignment.pk,
            municipality=assignment.municipality.slug,
            role=assignment.role,
            user_email=assignment.user.email,
            granted_at=assignment.granted_at,
        )


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    mfa_enabled: bool
    roles: list[RoleOut]


class RoleGrantIn(Schema):
    email: str = Field(max_length=254)
    role: Role


def page_slice(count: int, page: int, size: int) -> slice:
    """The rows of page `page` (from 1) of a list of `count`; a page past the last is 404
    `no_such_page` (page 1 always exists, perhaps empty), never an OFFSET PostgreSQL refuses."""
    start = (page - 1) * size
    if page > 1 and start >= count:
        raise NotFound(_("No such page."), code="no_such_page")
    return slice(start, start + size)


def auth_user(request: HttpRequest) -> User:
    """The account an authenticated endpoint runs for (session token or session cookie)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def optional_user(request: HttpRequest) -> User | None:
    """The signed-in account on a public endpoint, if any (for visibility of one's own drafts)."""
    return request.user if isinstance(request.user, User) else None


def municipality_or_404(slug: str) -> Municipality:
    """Every API path names its municipality; served from the per-process cache."""
    if "\x00" in slug:  # PostgreSQL text cannot hold it, and no slug has it
        raise Http404
    municipality = selectors.municipality_cached("slug", slug)
    if municipality is None:
        raise Http404
    return municipality


@router.get("/municipalities", response=list[MunicipalityOut], auth=None)
def municipality_list(request: HttpRequest) -> list[Municipality]:
    return list(selectors.municipalities_public())


@router.get("/municipalities/{slug}", response={200: MunicipalityOut, **errors(404)}, auth=None)
async def municipality_detail(request: HttpRequest, slug: str) -> Municipality:
    """Async: a cached municipality is answered on the event loop, without a thread."""
    cached, municipality = selectors.municipality_cache_peek("slug", slug)
    if cached and municipality is not None:
        return municipality
    return await sync_to_async(municipality_or_404)(slug)


@router.get("/me", response={200: MeOut, **errors(401)}, auth=AUTH)
def me(request: HttpRequest) -> MeOut:
    user = auth_user(request)
    return MeOut(
        id=user.pk,
        email=user.email,
        display_name=user.display_name,
        mfa_enabled=is_mfa_enabled(user),
        roles=[RoleOut.from_assignment(a) for a in selectors.roles_of_user(user)],
    )


def _require_role_manager(request: HttpRequest, municipality: Municipality) -> None:
    decision = permissions.can_manage_roles(auth_user(request), municipality)
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)


@router.get(
    "/municipalities/{slug}/roles",
    response={200: list[RoleOut], **errors(401, 403, 404)},
    auth=AUTH,
)
def role_list(request: HttpRequest, slug: str) -> list[RoleOut]:
    municipality = municipality_or_404(slug)
    _require_role_manager(request, municipality)
    return [RoleOut.from_assignment(a) for a in selectors.role_assignments_active(municipality)]


@router.post(
    "/municipalities/{slug}/roles",
    response={201: RoleOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=AUTH,
)
def role_grant(
    request: HttpRequest, slug: str, payload: RoleGrantIn
) -> Status[RoleOut] | HttpResponse:
    return idempotent(
        lambda assignment: Status(201, RoleOut.from_assignment(assignment)),
        services.role_grant,
        actor=auth_user(request),
        municipality=municipality_or_404(slug),
        email=payload.email,
        role=payload.role.value,
    )


@router.delete(
    "/municipalities/{slug}/roles/{assignment_id}",
    response={200: RoleOut, **errors(401, 403, 404, 409, 422)},
    auth=AUTH,
)
def role_revoke(request: HttpRequest, slug: str, assignment_id: int) -> RoleOut | HttpResponse:
    return idempotent(
        RoleOut.from_assignment,
        services.role_revoke,
        actor=auth_user(request),
        assignment_id=assignment_id,
        municipality=municipality_or_404(slug),
    )


class VerificationOut(Schema):
    """The person's standing; never their name, address or birthdate."""

    status: StatusName
    method: str = Field(description="`oidc`, `register`, `counter`, or empty when none.")
    verified_at: datetime | None
    expires_at: datetime | None


class EligibilityQuery(Schema):
    min_age: int = Field(
        18, ge=0, le=130, description="Minimum age on the day of the act; 0: none."
    )
    methods: str = Field(
        "",
        max_length=100,
        description="Comma-separated accepted methods (`oidc,register,counter`); empty: all.",
    )
    register_date: date | None = Field(
        None, description="Must have been resident on this date (YYYY-MM-DD)."
    )
    residence_required: bool = True

    @field_validator("register_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        """A calendar date as YYYY-MM-DD only: pydantic would also read `0` or `1700000000` as
        seconds since 1970, which nobody means here."""
        if value is None or isinstance(value, date):
            return value
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("use a date as YYYY-MM-DD")
        return value

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(VerificationMethod.values))
        if unknown:
            raise ValueError(
                f"unknown verification method(s) {', '.join(unknown)}; "
                f"use {', '.join(VerificationMethod.values)}"
            )
        return ",".join(names)

    def rule(self) -> EligibilityRule:
        methods = self.methods.split(",") if self.methods else VerificationMethod.values
        return EligibilityRule(
            min_age=self.min_age or None,
            residence_required=self.residence_required,
            methods=frozenset(methods),
            register_date=self.register_date,
        )


class ResidentEligibilityOut(Schema):
    allowed: bool
    code: str = Field(description="Stable reason, e.g. `eligible`, `under_age`, `not_verified`.")
    message: str
    age_bracket: str = Field(description="e.g. `30-39`; empty unless allowed.")
    method: str


@router.get(
    "/municipalities/{slug}/verification",
    response={200: VerificationOut, **errors(401, 404)},
    auth=AUTH,
)
def my_verification(request: HttpRequest, slug: str) -> VerificationOut:
    """The signed-in person's verification in this municipality."""
    standing = verification_status(auth_user(request), municipality_or_404(slug))
    current = standing.current
    return VerificationOut(
        status=standing.status,
        method=current.method if current else "",
        verified_at=current.verified_at if current else None,
        expires_at=current.expires_at if current else None,
    )


@router.get(
    "/municipalities/{slug}/eligibility",
    response={200: ResidentEligibilityOut, **errors(401, 404, 422)},
    auth=AUTH,
)
def my_eligibility(
    request: HttpRequest, slug: str, params: Query[EligibilityQuery]
) -> ResidentEligibilityOut:
    """May the signed-in person take part, now, in an act with this rule?"""
    decision = eligibility(
        auth_user(request), municipality_or_404(slug), timezone.now(), params.rule()
    )
    return ResidentEligibilityOut(
        allowed=decision.allowed,
        code=decision.code,
        message=str(decision.message),
        age_bracket=decision.age_bracket,
        method=decision.method,
    )
