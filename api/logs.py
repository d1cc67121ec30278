"""Log lines pass through the same masking as answers: the access log prints query strings
(``/findings?q=…``, ``/graph/neighbourhood?entity=…``, percent-encoded) and a failed
screening's traceback can quote a cell, either of which may hold a resident ID number.

The masking wraps each handler's formatter, so it applies to the finished line — message,
arguments, traceback — whatever the formatter does with the record (uvicorn's access
formatter reads the record's arguments itself: they are left as they are)."""

from __future__ import annotations

import logging
import re
import unicodedata

from integrity.masking import mask_text

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "integrity", "integrity.api")
_DIGITS = re.compile(r"\d")


class MaskingFormatter(logging.Formatter):
    """Formats with the handler's own formatter, then masks the line."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        try:
            return mask_text(line)
        except Exception:  # never the line as it was: logging's error path
            # would print the record unmasked; every digit starred instead
            return _DIGITS.sub("*", unicodedata.normalize("NFKC", line))


def install_log_masking() -> None:
    """Wrap the formatter of every handler of the service's loggers (uvicorn's included: it
    configures them before it builds the app), and of Python's last-resort handler.
    Idempotent."""
    handlers = [h for name in LOGGERS for h in logging.getLogger(name).handlers]
    if logging.lastResort is not None:  # what prints when no handler is configured
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not isinstance(handler.formatter, MaskingFormatter):
            handler.setFormatter(MaskingFormatter(handler.formatter))
