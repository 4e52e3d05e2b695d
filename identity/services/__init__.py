"""Every write of the identity app: typed, permission-checked, atomic, audited."""

from identity.services.account import (
    account_data,
    account_delete,
    account_export,
    deletion_refusals,
)
from identity.services.counter import (
    resident_account_create,
    resident_letter_issue,
    staff_view_record,
)
from identity.services.oidc import identity_provider_configure
from identity.services.register import ImportReport, register_import
from identity.services.roles import (
    account_flags_set,
    municipality_create,
    municipality_settings_update,
    municipality_update,
    profile_update,
    role_grant,
    role_revoke,
)
from identity.services.verification import (
    verification_by_counter,
    verification_by_oidc,
    verification_by_register,
    verification_revoke,
)

__all__ = [
    "ImportReport",
    "account_data",
    "account_delete",
    "account_export",
    "account_flags_set",
    "deletion_refusals",
    "identity_provider_configure",
    "municipality_create",
    "municipality_settings_update",
    "municipality_update",
    "profile_update",
    "register_import",
    "resident_account_create",
    "resident_letter_issue",
    "role_grant",
    "role_revoke",
    "staff_view_record",
    "verification_by_counter",
    "verification_by_oidc",
    "verification_by_register",
    "verification_revoke",
]
