"""Login, roles and security headers."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_babel import gettext as _

from . import accounts, sessions
from .db import get_db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def load_user() -> None:
    """Put the logged-in user (or None) on g for this request: only a live server-side session counts."""
    g.user = None
    if sessions.SESSION_KEY in session:
        db = get_db()
        user_id = sessions.current_user_id(db)
        g.user = accounts.get_user(db, user_id) if user_id else None


def login_required(*roles: str) -> Callable:
    """Require a logged-in user, with one of `roles` when given (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("admin.login", next=request.full_path))
            if roles and g.user["role"] not in roles:
                abort(403, description=_("Your role does not give access to this page."))
            return view(*args, **kwargs)

        return wrapped

    return decorator


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
# Invitation links, the invited form and admin pages must not linger in shared caches.
NO_STORE = ("Cache-Control", "no-store")


def set_security_headers(response):
    """Add the security headers every response carries, unless the view set its own."""
    headers = response.headers
    # One pass over the headers a view set (few) instead of a lookup per security header.
    present = {name.lower() for name, _value in headers.items()}
    wanted = list(SECURITY_HEADERS)
    path = request.path
    if path.startswith(("/i/", "/admin", "/api/")) or path.endswith("/invited"):
        wanted.append(NO_STORE)
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response


def init_app(app: Flask) -> None:
    """Register the user loader and the security headers."""
    app.before_request(load_user)
    app.after_request(set_security_headers)
