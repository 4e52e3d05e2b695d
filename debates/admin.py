"""Read-only admin views of debates: every change goes through the audited services (pages, API),
so the admin is for looking, never for editing. Votes are not listed (they would show who voted
how); the anonymised matrix is in the public CSV."""

from django.contrib import admin

from debates.models import (
    Comment,
    Conclusion,
    Contribution,
    Debate,
    OpinionSnapshot,
    Phase,
    Report,
    Statement,
)
from identity.admin import ReadOnlyAdmin


class PhaseInline(admin.TabularInline):
    model = Phase
    fields = ("kind", "starts_at", "ends_at", "announced_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Debate)
class DebateAdmin(ReadOnlyAdmin):
    list_display = ("id", "question", "municipality", "created_at")
    list_filter = ("municipality",)
    search_fields = ("question",)
    inlines = (PhaseInline,)


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    list_display = ("id", "debate", "title", "created_at", "hidden_at")
    list_filter = ("debate__municipality",)


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("id", "contribution", "created_at", "hidden_at")


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ("id", "debate", "text", "status", "agree_count", "disagree_count", "pass_count")
    list_filter = ("status", "debate__municipality")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "reason", "created_at", "resolved_at")


@admin.register(OpinionSnapshot)
class OpinionSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("id", "debate", "computed_at", "participant_count", "vote_count", "group_count")


@admin.register(Conclusion)
class ConclusionAdmin(ReadOnlyAdmin):
    list_display = ("debate", "published_at", "proposal")
