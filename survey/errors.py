"""Error pages and JSON errors: every failure is a clear 4xx, never a bare 500 page."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class AppError(Exception):
    """An error the client can fix, answered with `status`: JSON {error, fields?} for the API, a page elsewhere."""

    def __init__(
        self, error: str, status: int = 400, fields: dict[str, str] | None = None, headers: dict | None = None
    ):
        super().__init__(error)
        self.error, self.status, self.fields, self.headers = error, status, fields, headers or {}


MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that method."),
    413: _l("The request is too large (the limit is 1 MB)."),
}
# Titles of the error pages (Werkzeug's names are English only).
TITLES = {
    400: _l("Bad request"),
    401: _l("Not logged in"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    422: _l("Cannot be processed"),
    429: _l("Too many requests"),
    503: _l("Service unavailable"),
}


def wants_json() -> bool:
    """Return True for API requests, which get JSON errors."""
    return request.path.startswith("/api/")


def handle_http(exc: HTTPException):
    """Render an HTTP error as JSON for the API, as a page elsewhere."""
    code = exc.code or 500
    # Werkzeug's default descriptions are English: ours are translated; a view's own description
    # (abort(..., description=_(...))) already is.
    own = exc.description and exc.description != type(exc).description
    message = exc.description if own and code not in (404, 405, 413) else MESSAGES.get(code, exc.name)
    if code == 413:
        message = MESSAGES[413]
    if wants_json():
        return jsonify(error=str(message)), code
    g.setdefault("lang", "en")
    return render_template("error.html", code=code, title=TITLES.get(code, exc.name), message=message), code


def handle_csrf(exc: CSRFError):
    """Explain a missing or expired CSRF token and how to recover."""
    g.setdefault("lang", "en")
    message = _("The form's security token is missing or has expired. Go back, reload the page and try again.")
    return render_template("error.html", code=400, title=_("Form expired"), message=message), 400


def handle_app_error(exc: AppError):
    """Answer an AppError as JSON for the API, as an error page elsewhere."""
    if wants_json():
        body = {"error": exc.error}
        if exc.fields:
            body["fields"] = exc.fields
        return jsonify(body), exc.status, exc.headers
    g.setdefault("lang", "en")
    page = render_template("error.html", code=exc.status, title=TITLES.get(exc.status, _("Error")), message=exc.error)
    return page, exc.status, exc.headers


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
