"""The audit log's rows; writing, sealing and verifying live in identity.audit."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models.accounts import Municipality, User


class AuditEntry(models.Model):
    """One append-only line of the audit log.

    Writers insert freely (no shared row is touched); a sealer later gives committed entries their
    place `seq` in the chain of their municipality and links them by hash. See docs/decisions.md,
    "Audit log without a hot row".
    """

    SITE_CHAIN = "site"

    chain = models.CharField(_("chain"), max_length=24, editable=False)
    # Looked up by municipality through the (municipality, -created_at) index below.
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    entry_hash = models.CharField(max_length=64, editable=False)
    seq = models.BigIntegerField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    chain_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_chain_seq_unique"),
            models.CheckConstraint(
                condition=Q(seq__isnull=True) | Q(seq__gte=1), name="audit_entry_seq_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "-created_at"]),
            models.Index(
                fields=["chain", "id"], condition=Q(seq__isnull=True), name="audit_entry_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"


class AuditCheckpoint(models.Model):
    """The head of a chain after a seal: seq and hash, published so truncation is detectable."""

    chain = models.CharField(max_length=24)
    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_checkpoint_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"
