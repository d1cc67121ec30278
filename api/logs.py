"""Log lines pass through the same masking as answers: the access log prints query strings
(``/findings?q=…``, ``/graph/neighbourhood?entity=…``) and a failed screening's traceback can
quote a cell, either of which may hold a resident ID number."""

from __future__ import annotations

import logging

from api.masking import mask_text

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "integrity", "integrity.api")


class MaskingFilter(logging.Filter):
    """Renders the record's message (and traceback) masked, once, before any formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return True
        record.msg = mask_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_FILTER = MaskingFilter()


def install_log_masking() -> None:
    """Attach the filter to every handler of the service's loggers (uvicorn's included:
    it configures them before it builds the app). Idempotent."""
    handlers = [h for name in LOGGERS for h in logging.getLogger(name).handlers]
    if logging.lastResort is not None:  # what prints when no handler is configured
        handlers.append(logging.lastResort)
    for handler in handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
