from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from identity.audit import audit_record
from identity.models import AuditCheckpoint, AuditEntry, Municipality, RoleAssignment, User


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


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("code", "slug", "name", "name_en", "host", "is_active")

    def save_model(self, request, obj, form, change):
        # The admin wraps this in a transaction, so the change and its audit entry commit together.
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            municipality=obj,
            action="municipality.change" if change else "municipality.create",
            target=obj,
            data={field: form.cleaned_data.get(field) for field in form.changed_data},
        )


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
