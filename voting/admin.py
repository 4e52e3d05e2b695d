"""Elections in Django admin: read only. Every change goes through the audited services (the
election office's pages, the trustees' pages, the API), and ballots are never edited."""

from django.contrib import admin

from identity.admin import ReadOnlyAdmin
from voting.models import Ballot, DecryptionShare, Election, Result, RollEntry, Trustee


@admin.register(Election)
class ElectionAdmin(ReadOnlyAdmin):
    list_display = ("id", "municipality", "title", "status", "opens_at", "closes_at")
    list_filter = ("municipality", "status")
    search_fields = ("title",)
    exclude = ("header",)


@admin.register(Trustee)
class TrusteeAdmin(ReadOnlyAdmin):
    list_display = ("election", "tid", "user", "uploaded_at")
    list_select_related = ("election", "user")


@admin.register(RollEntry)
class RollEntryAdmin(ReadOnlyAdmin):
    list_display = ("election", "alias", "method", "age_bracket")
    list_filter = ("election",)
    search_fields = ("alias",)
    # The alias names a voter on the public bulletin board: no page may tie it to the person.
    exclude = ("user", "person_key")


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ("election", "tracker", "kind", "cast_at", "superseded")
    list_filter = ("election", "kind", "superseded")
    search_fields = ("tracker",)
    exclude = ("content", "randomness")


@admin.register(DecryptionShare)
class DecryptionShareAdmin(ReadOnlyAdmin):
    list_display = ("election", "trustee", "verified", "uploaded_at")
    exclude = ("factors",)


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("election", "ballots_counted", "roll_size", "published_at", "record_sha256")
    exclude = ("record",)
