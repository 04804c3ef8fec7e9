"""Logging that never carries what respondents wrote.

An unexpected error is logged with its type and where it happened, never with its message or
the messages of the exceptions it came from: a message may quote the value that failed, and
that value may be a comment (openpyxl's IllegalCharacterError quotes the whole cell). The
traceback's lines are the app's source code, which holds no respondent text.
"""

from __future__ import annotations

import logging
import traceback

from flask import Flask

WITHHELD = "(message withheld: it may quote what a respondent wrote)"


def redacted_traceback(exc: BaseException) -> str:
    """Return a traceback of exc and its causes with every exception's message left out."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for n, item in enumerate(reversed(chain)):
        if n:
            lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        lines.append(f"{type(item).__module__}.{type(item).__qualname__}: {WITHHELD}\n")
    return "".join(lines)


class RedactExceptions(logging.Filter):
    """Replace a record's exception by a traceback without messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1])
            record.exc_info = None
        return True


def init_app(app: Flask) -> None:
    """Redact the exceptions Flask logs for failed requests (the 'survey' logger) and its handlers' records."""
    redact = RedactExceptions()
    app.logger.addFilter(redact)
    for handler in app.logger.handlers:
        handler.addFilter(redact)
