from identity.models.accounts import (
    Municipality,
    MunicipalityKind,
    Role,
    RoleAssignment,
    RoleAssignmentQuerySet,
    User,
    UserManager,
)
from identity.models.audit import AuditCheckpoint, AuditEntry
from identity.models.idempotency import IdempotentAnswer
from identity.models.oidc import IdentityProvider
from identity.models.outbox import OutboxMessage
from identity.models.verification import (
    DocumentType,
    EndReason,
    RegisterEntry,
    ResidentRegister,
    Verification,
    VerificationMethod,
    VerificationQuerySet,
)

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "DocumentType",
    "EndReason",
    "IdempotentAnswer",
    "IdentityProvider",
    "Municipality",
    "MunicipalityKind",
    "OutboxMessage",
    "RegisterEntry",
    "ResidentRegister",
    "Role",
    "RoleAssignment",
    "RoleAssignmentQuerySet",
    "User",
    "UserManager",
    "Verification",
    "VerificationMethod",
    "VerificationQuerySet",
]
