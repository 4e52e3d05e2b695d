"""API endpoints: municipalities, the current user, roles."""

from __future__ import annotations

from datetime import datetime

from allauth.headless.contrib.ninja.security import XSessionTokenAuth
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth

from identity import permissions, selectors, services
from identity.errors import PermissionDenied
from identity.models import Municipality, Role, RoleAssignment, User


class SessionTokenAuth(XSessionTokenAuth):
    """allauth's headless session token; it declares no header name, which OpenAPI requires."""

    openapi_in = "header"
    openapi_name = "X-Session-Token"


router = Router(tags=["identity"])
AUTH = [SessionTokenAuth(), django_auth]


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


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _municipality(slug: str) -> Municipality:
    return get_object_or_404(selectors.municipalities_public(), slug=slug)


@router.get("/municipalities", response=list[MunicipalityOut], auth=None)
def municipality_list(request: HttpRequest) -> list[Municipality]:
    return list(selectors.municipalities_public())


@router.get("/municipalities/{slug}", response={200: MunicipalityOut, 404: ErrorOut}, auth=None)
def municipality_detail(request: HttpRequest, slug: str) -> Municipality:
    return _municipality(slug)


@router.get("/me", response={200: MeOut, 401: ErrorOut}, auth=AUTH)
def me(request: HttpRequest) -> MeOut:
    user = _user(request)
    return MeOut(
        id=user.pk,
        email=user.email,
        display_name=user.display_name,
        mfa_enabled=is_mfa_enabled(user),
        roles=[RoleOut.from_assignment(a) for a in selectors.roles_of_user(user)],
    )


def _require_role_manager(request: HttpRequest, municipality: Municipality) -> None:
    decision = permissions.can_manage_roles(_user(request), municipality)
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)


@router.get(
    "/municipalities/{slug}/roles",
    response={200: list[RoleOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=AUTH,
)
def role_list(request: HttpRequest, slug: str) -> list[RoleOut]:
    municipality = _municipality(slug)
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
        actor=_user(request),
        municipality=_municipality(slug),
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
        actor=_user(request), assignment_id=assignment_id, municipality=_municipality(slug)
    )
    return RoleOut.from_assignment(assignment)
