"""Answers that show a personal profile: never cached anywhere, and the same size whatever profile they hold.

The size matters because access logs (gunicorn's, a reverse proxy's) record each answer's length
next to the client's address: if the length depended on the level reached, a log line would
say something about the profile. Padding to a whole number of blocks makes every profile page
of a survey (in one language) exactly as long as any other.
"""

from __future__ import annotations

import json

from flask import Response

HTML_BLOCK = 16 * 1024  # a profile page is 5-7 KB, even with a 200-character title in three-byte letters
JSON_BLOCK = 4 * 1024  # a self-assessment answer, next steps included, is under 1 KB
NO_STORE = "no-store, max-age=0"


def pad(body: bytes, block: int, filler: bytes = b" ") -> bytes:
    """Return body followed by filler, up to the next whole multiple of block bytes."""
    return body + filler * (-len(body) % block)


def html(page: str, status: int = 200, headers: dict | None = None, padded: bool = True) -> Response:
    """Return an HTML page holding a profile (or answers): padded, and kept by no cache (Back does not show it)."""
    body = page.encode("utf-8")
    if not padded:
        return _private(Response(body, status, mimetype="text/html"), headers)
    # The padding is a comment before </body>, where it changes nothing on the page.
    at = body.rfind(b"</body>")
    head, tail = (body[:at], body[at:]) if at >= 0 else (body, b"")
    fill = -(len(body) + len(b"<!---->")) % HTML_BLOCK
    body = head + b"<!--" + b" " * fill + b"-->" + tail
    return _private(Response(body, status, mimetype="text/html"), headers)


def json_response(data: dict, status: int = 200, headers: dict | None = None) -> Response:
    """Return a JSON answer holding a profile: padded with trailing white space (still valid JSON), never cached."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _private(Response(pad(body, JSON_BLOCK), status, mimetype="application/json"), headers)


def _private(response: Response, headers: dict | None) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    response.headers["Pragma"] = "no-cache"  # for HTTP/1.0 caches that know no Cache-Control
    response.headers["Expires"] = "0"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
