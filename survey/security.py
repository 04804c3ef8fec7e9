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


def set_security_headers(response):
    """Add the security headers every response carries."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith(("/i/", "/admin", "/api/")) or request.path.endswith("/invited"):
        # Invitation links, the invited form and admin pages must not linger in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the user loader and the security headers."""
    app.before_request(load_user)
    app.after_request(set_security_headers)
