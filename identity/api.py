"""API endpoints: municipalities, the current user, roles, and the current person's verification
and eligibility."""

from __future__ import annotations

from datetime import date, datetime

from allauth.mfa.utils import is_mfa_enabled
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from identity import permissions, selectors, services
from identity.api_auth import AUTH
from identity.eligibility import EligibilityRule, eligibility
from identity.errors import PermissionDenied
from identity.models import Municipality, Role, RoleAssignment, User, VerificationMethod
from identity.verification_status import StatusName, verification_status

router = Router(tags=["identity"])


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable reason, e.g. `role_required`.")
    message: str


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
    municipality = selectors.municipality_cached("slug", slug)
    if municipality is None:
        raise Http404
    return municipality


@router.get("/municipalities", response=list[MunicipalityOut], auth=None)
def municipality_list(request: HttpRequest) -> list[Municipality]:
    return list(selectors.municipalities_public())


@router.get("/municipalities/{slug}", response={200: MunicipalityOut, 404: ErrorOut}, auth=None)
def municipality_detail(request: HttpRequest, slug: str) -> Municipality:
    return municipality_or_404(slug)


@router.get("/me", response={200: MeOut, 401: ErrorOut}, auth=AUTH)
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
    response={200: list[RoleOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=AUTH,
)
def role_list(request: HttpRequest, slug: str) -> list[RoleOut]:
    municipality = municipality_or_404(slug)
    _require_role_manager(request, municipality)
    return [RoleOut.from_assignment(a) for a in selectors.role_assignments_active(municipality)]


@router.post(
    "/municipalities/{slug}/roles",
    response={
        201: RoleOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    auth=AUTH,
)
def role_grant(request: HttpRequest, slug: str, payload: RoleGrantIn) -> Status[RoleOut]:
    assignment = services.role_grant(
        actor=auth_user(request),
        municipality=municipality_or_404(slug),
        email=payload.email,
        role=payload.role.value,
    )
    return Status(201, RoleOut.from_assignment(assignment))


@router.delete(
    "/municipalities/{slug}/roles/{assignment_id}",
    response={200: RoleOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=AUTH,
)
def role_revoke(request: HttpRequest, slug: str, assignment_id: int) -> RoleOut:
    assignment = services.role_revoke(
        actor=auth_user(request),
        assignment_id=assignment_id,
        municipality=municipality_or_404(slug),
    )
    return RoleOut.from_assignment(assignment)


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


class EligibilityOut(Schema):
    allowed: bool
    code: str = Field(description="Stable reason, e.g. `eligible`, `under_age`, `not_verified`.")
    message: str
    age_bracket: str = Field(description="e.g. `30-39`; empty unless allowed.")
    method: str


@router.get(
    "/municipalities/{slug}/verification",
    response={200: VerificationOut, 401: ErrorOut, 404: ErrorOut},
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
    response={200: EligibilityOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=AUTH,
)
def my_eligibility(
    request: HttpRequest, slug: str, params: Query[EligibilityQuery]
) -> EligibilityOut:
    """May the signed-in person take part, now, in an act with this rule?"""
    decision = eligibility(
        auth_user(request), municipality_or_404(slug), timezone.now(), params.rule()
    )
    return EligibilityOut(
        allowed=decision.allowed,
        code=decision.code,
        message=str(decision.message),
        age_bracket=decision.age_bracket,
        method=decision.method,
    )
