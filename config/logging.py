"""Logging helpers named by settings.LOGGING."""

from __future__ import annotations

import logging
import re
import threading
import time


class OncePerInterval(logging.Filter):
    """Let one record through per interval, so an outage of a service called on every request
    (the cache while Redis is down) is logged once, not once per call."""

    def __init__(self, seconds: float = 60.0) -> None:
        super().__init__()
        self.seconds = seconds
        self._next = 0.0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + self.seconds
        return True


# Secrets that travel in URLs (allauth's password-reset and e-mail-confirmation keys, Django's
# reset links) and e-mail addresses: an access log line or an error message may carry either.
_URL_KEYS = re.compile(
    r"(/(?:password/reset/key|confirm-email|reset)/)[^/\s\"?]+", flags=re.IGNORECASE
)
_QUERY_SECRETS = re.compile(
    r"([?&](?:key|token|code|state|email|session_token)=)[^&\s\"]+", flags=re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str) -> str:
    text = _URL_KEYS.sub(r"\1[redacted]", text)
    text = _QUERY_SECRETS.sub(r"\1[redacted]", text)
    return _EMAIL.sub("[e-mail]", text)


class RedactSecrets(logging.Filter):
    """The last guard on the console handler: whatever a library logs (uvicorn's access log
    names every path, allauth and Django may name an address), no reset key, confirmation key or
    e-mail address is written. The project's own messages carry ids only."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            # Formatted here once and redacted; the JSON formatter would format exc_info anew.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
