from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotentAnswer(models.Model):
    """The answer of an API write sent with an `Idempotency-Key`, committed in the write's own
    transaction (identity/idempotency.py). Opaque on purpose: the primary key is a keyed hash of
    (account, key) and the answer is sealed with a key derived from the client's key, so the row
    names nobody and links nobody to a ballot, tracker or debate vote (docs/decisions.md)."""

    # HMAC-SHA-256 (server secret) of the account and the client's key: the primary key is the
    # unique constraint that makes a second act with the same key impossible.
    digest = models.BinaryField(_("digest"), primary_key=True, max_length=32)
    # AES-GCM of {fingerprint, status, content type, body} under a key only the client's key gives.
    sealed = models.BinaryField(_("sealed answer"))
    # Rounded up to the hour, so the row does not tell when its act happened.
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("idempotent answer")
        verbose_name_plural = _("idempotent answers")

    def __str__(self) -> str:
        return bytes(self.digest).hex()[:12]
