"""What a council document upload is: its type judged by its first bytes, and a file name safe to
send back in Content-Disposition."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

from django.core.files.uploadedfile import UploadedFile

from proposals.models import DOCUMENT_EXTENSIONS

# The magic numbers of the accepted types. A name or a browser's Content-Type says nothing: both
# come from the uploader.
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
NAME_MAX = 120


def sniffed_type(file: UploadedFile) -> str | None:
    """The content type by the file's first bytes, or None when it is none of the accepted."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def safe_name(name: str, content_type: str) -> str:
    """The uploader's file name without any directory, control or format characters, NFC, at most
    NAME_MAX characters, ending in the extension of the type it really has."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    extension = DOCUMENT_EXTENSIONS[content_type]
    suffix = PurePosixPath(base).suffix.lower().lstrip(".")
    if suffix not in ({extension, "jpeg"} if extension == "jpg" else {extension}):
        base = f"{base or 'document'}.{extension}"
    if len(base) > NAME_MAX:
        stem, _, ext = base.rpartition(".")
        base = f"{stem[: NAME_MAX - len(ext) - 1]}.{ext}"
    return base
