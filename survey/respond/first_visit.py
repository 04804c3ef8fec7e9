"""The open link's first visit, answered from memory: the last such page Flask made, with this visitor's own values.

Almost every visit to an open link (/s/<slug>, from a QR code, a poster or an e-mail) is a first
one: a GET without a cookie or a query string. Its response is the same for every visitor but
for three values: the CSRF token in the form, the session cookie that holds the token's secret
half, and the form's single-use key. Flask's request pipeline around that page cost more than the
page itself, so this WSGI layer keeps the last response Flask made for such a visit (status, every
header its hooks set, the body) and answers the next ones from it, each with fresh values made by
the same serializers (survey.signing) that Flask and Flask-WTF check the POST with.

A kept response is used only while nothing it shows can have changed:
- the form version is the same (db.form_version: triggers count every change to surveys,
  departments and actions, whoever makes it);
- it is the same day where the organisation is (a survey opens or closes at midnight);
- the retention purge is not due (it runs in Flask's request hooks);
- no erasure emptied the memory caches since (retention.forget_in_memory empties this one too).
Anything else (a cookie, ?lang=, a POST, another address) goes to Flask, as does a first visit
whose kept response is stale; its response is then kept again.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, current_app, request, session

from .. import responses
from ..cache import Cache
from ..db import form_version, thread_db
from ..signing import csrf_field, csrf_serializer, new_csrf_secret
from ..surveys import local_today, today_in

OFFER = "survey.first_visit"  # the WSGI environ key through which the view offers its page
PATH = re.compile(r"^/s/([A-Za-z0-9_-]+)$")
KEPT = "first_visits"  # app.extensions key of the kept responses


@dataclass(frozen=True)
class Offer:
    """What the view used for one first visit: its survey, form version, day and the three per-visitor values."""

    slug: str
    version: int
    day: str
    secret: str
    token: bytes
    form_key: bytes


@dataclass(frozen=True)
class Kept:
    """A first visit's response, cut where the per-visitor values go."""

    version: int
    day: str
    status: str
    headers: list[tuple[str, str]]  # without the session cookie
    cookie: tuple[str, str]  # the Set-Cookie header around its value
    segments: list[bytes]  # the body between the per-visitor values
    slots: list[bool]  # True: the CSRF token goes there, False: the form key


def offer(version: int | None, token: bytes, form_key: bytes) -> None:
    """Offer this request's form page to be kept, when it is an open link's first visit (else do nothing)."""
    env = request.environ
    if version is None or request.endpoint != "respond.open_link" or request.method != "GET":
        return
    if env.get("HTTP_COOKIE") or env.get("QUERY_STRING"):
        return  # a returning visitor or a chosen language: not the same page for everyone
    secret = session.get(csrf_field(current_app))
    if isinstance(secret, str):
        slug = (request.view_args or {}).get("slug", "")
        env[OFFER] = Offer(slug, version, local_today(), secret, token, form_key)


def cut(page: bytes, token: bytes, form_key: bytes) -> tuple[list[bytes], list[bool]]:
    """Cut a rendered form where its CSRF token and form key are: the segments between, and which goes where."""
    parts = re.split(b"(" + re.escape(token) + b"|" + re.escape(form_key) + b")", page)
    return parts[0::2], [sep == token for sep in parts[1::2]]


def splice(segments: list[bytes], slots: list[bool], token: bytes, form_key: bytes) -> bytes:
    """Put another visitor's token and form key into a cut form (no search, no encoding)."""
    out = [segments[0]]
    for is_token, segment in zip(slots, segments[1:], strict=True):
        out += [token if is_token else form_key, segment]
    return b"".join(out)


class FirstVisits:
    """WSGI middleware answering an open link's first visit from the last one Flask answered."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app
        self.kept = app.extensions.setdefault(KEPT, Cache(64))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        slug = self._first_visit(environ)
        if slug is None:
            return self.wsgi_app(environ, start_response)
        kept = self.kept.get(slug)
        try:
            fresh = kept is not None and self._fresh(kept)
        except sqlite3.Error:
            fresh = False  # a busy or broken file: Flask answers, with its error pages if need be
        if fresh:
            return self._answer(kept, start_response)
        return self._keep(slug, environ, start_response)

    @staticmethod
    def _first_visit(environ: dict) -> str | None:
        """Return the slug of a first visit to an open link (GET, no cookie, no query string), else None."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_COOKIE") or environ.get("QUERY_STRING"):
            return None
        found = PATH.match(environ.get("PATH_INFO", ""))
        return found.group(1) if found else None

    def _fresh(self, kept: Kept) -> bool:
        """Return True when nothing the kept page shows can have changed since Flask made it."""
        from ..retention import PURGE_EVERY

        if time.monotonic() - self.app.extensions.get("purged_at", 0.0) >= PURGE_EVERY:
            return False  # Flask's hooks run the purge
        db = thread_db(self.app)
        if db.conn.in_transaction or form_version(db) != kept.version:
            return False
        return today_in(self.app.config.get("TIMEZONE")) == kept.day

    def _answer(self, kept: Kept, start_response: Callable) -> list[bytes]:
        """Answer from the kept response with this visitor's own token, cookie and form key."""
        secret = new_csrf_secret()
        token = csrf_serializer(self.app).dumps(secret).encode()
        form_key = responses.new_form_key().encode()
        cookie = self.app.session_interface.get_signing_serializer(self.app).dumps({csrf_field(self.app): secret})
        body = splice(kept.segments, kept.slots, token, form_key)
        headers = [(k, str(len(body)) if k == "Content-Length" else v) for k, v in kept.headers]
        headers.append(("Set-Cookie", kept.cookie[0] + cookie + kept.cookie[1]))
        start_response(kept.status, headers)
        return [body]

    def _keep(self, slug: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Let Flask answer; keep its response when the view offered it and it is what a first visit gets."""
        captured: list = []

        def capture(status: str, headers: list, exc_info=None):
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body_iter = self.wsgi_app(environ, capture)
        got = environ.get(OFFER)
        if got is None or got.slug != slug or not captured or not captured[0].startswith("200"):
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        kept = self._cut(got, captured[0], captured[1], body)
        if kept is not None:
            self.kept.put(slug, kept)
        return [body]

    def _cut(self, got: Offer, status: str, headers: list, body: bytes) -> Kept | None:
        """Return the response cut at its per-visitor values, or None when it is not exactly a first visit's."""
        name = self.app.config["SESSION_COOKIE_NAME"]
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        if len(cookies) != 1 or not cookies[0].startswith(name + "="):
            return None
        value = cookies[0][len(name) + 1 :].split(";", 1)[0]
        try:
            data = self.app.session_interface.get_signing_serializer(self.app).loads(value)
        except Exception:
            return None
        if data != {csrf_field(self.app): got.secret}:
            return None  # the session holds more than the token's secret: not the same for everyone
        segments, slots = cut(body, got.token, got.form_key)
        if not any(slots) or all(slots):
            return None  # a first visit's form carries both
        at = cookies[0].index(value, len(name))
        cookie = (cookies[0][:at], cookies[0][at + len(value) :])
        others = [(k, v) for k, v in headers if k.lower() != "set-cookie"]
        return Kept(got.version, got.day, status, others, cookie, segments, slots)
