"""The site operator's admin. Writes go through the services, so they are audited like any
other; roles and the audit log are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from identity import services
from identity.decorators import current_user
from identity.models import AuditCheckpoint, AuditEntry, Municipality, RoleAssignment, User
from identity.services.roles import ACCOUNT_FLAGS, MUNICIPALITY_EDITABLE

CREATE_FIELDS = ("slug", "name", "name_en", "code", "host")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "display_name", "is_active", "is_superuser", "date_joined")
    search_fields = ("email", "display_name")
    fieldsets = (
        (None, {"fields": ("email", "password", "display_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Audit entries and legal acts refer to the account: it is erased by the person
        # (identity.services.account_delete), never deleted.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Staff who may change accounts must not be able to make themselves superusers.
            readonly += ("is_staff", "is_superuser")
        return readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        flags = {f: form.cleaned_data[f] for f in ACCOUNT_FLAGS if f in form.changed_data}
        if not (change and flags):
            super().save_model(request, obj, form, change)
            return
        # The other fields as the form has them; the flags through the service, which audits.
        for flag in flags:
            setattr(obj, flag, form.initial[flag])
        super().save_model(request, obj, form, change)
        services.account_flags_set(actor=current_user(request), user_id=obj.pk, flags=flags)
        obj.refresh_from_db(fields=list(flags))


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    """Municipalities are the site operator's: created and changed through the services, which
    write the audit entry."""

    list_display = ("code", "slug", "name", "name_en", "host", "is_active")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return CREATE_FIELDS if obj is None else MUNICIPALITY_EDITABLE

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # proposals, roles and the audit chain refer to it; deactivate instead

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = services.municipality_update(
                actor=current_user(request),
                municipality_id=obj.pk,
                values={f: data[f] for f in form.changed_data if f in MUNICIPALITY_EDITABLE},
            )
        else:
            saved = services.municipality_create(
                actor=current_user(request), **{f: data.get(f) for f in CREATE_FIELDS}
            )
        obj.pk = saved.pk
        obj.refresh_from_db()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Roles change through the staff pages and the audit log through nothing: both are audited."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "municipality", "role", "granted_at", "revoked_at")
    list_filter = ("municipality", "role")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "chain", "seq", "action", "actor", "created_at")
    list_filter = ("chain", "action")


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("chain", "seq", "head_hash", "created_at")
