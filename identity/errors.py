"""Domain errors: services raise them with a stable code; views and the API map them to
responses."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A refused action. `code` is stable (API clients match on it); `message` is for people."""

    status = 400
    code = "invalid"

    def __init__(self, message: str | Promise, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code


class NotSignedIn(DomainError):
    """No account: no session, or a session token that names nobody (any more)."""

    status = 401
    code = "not_signed_in"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class InvalidFields(InvalidInput):
    """Bad values named per field (NON_FIELD_ERRORS for the whole), so a form can put each message
    beside the field it is about."""

    def __init__(self, errors: dict[str, list[str | Promise]], *, code: str | None = None) -> None:
        first = next(iter(errors.values()))[0]
        super().__init__(first, code=code)
        self.errors = errors
