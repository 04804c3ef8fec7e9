"""The session cookie and the CSRF token, signed as Flask and Flask-WTF sign them, minus the compression.

itsdangerous's URL-safe serializer tries zlib on every payload it signs and keeps the result
only when shorter. A session holding a random CSRF token never compresses, yet each attempt
sets up a fresh zlib state (a quarter of a megabyte), which made the respondent's form (the
busiest page: a session cookie and a CSRF token for every first visit) cost several times a
bare page. Compressing a secret next to values a visitor chooses is also what compression side
channels (CRIME, BREACH) feed on. So both are signed uncompressed, with serializers built once
per key set instead of per request; the keys, salts, algorithms, format and the checks
(itsdangerous loads, Flask-WTF's validate_csrf) stay theirs, and they still read compressed
values signed before.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes
from itsdangerous.url_safe import URLSafeSerializerMixin

CSRF_SALT = "wtf-csrf-token"  # flask_wtf.csrf's salt: its validate_csrf checks what csrf_token() signs


class KeptKeySigner(TimestampSigner):
    """itsdangerous's TimestampSigner that derives each key once instead of on every signature."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """Return the key itsdangerous derives (same derivation), kept for the next signature."""
        raw = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        key = self._derived.get(raw)
        if key is None:
            key = self._derived[raw] = super().derive_key(raw)
        return key


class UncompressedSerializer(URLSafeTimedSerializer):
    """itsdangerous's URLSafeTimedSerializer writing its payload without trying zlib, with one kept signer."""

    default_signer = KeptKeySigner

    def dump_payload(self, obj: Any) -> bytes:
        """Return the serialised object, base64-encoded (what the parent writes when zlib gains nothing)."""
        # Skip URLSafeSerializerMixin.dump_payload (the zlib attempt); the plain serializer's stays.
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """Return the signer for salt: the serializer's own one is built once (signers keep no state)."""
        if salt is not None and want_bytes(salt) != self.salt:
            return super().make_signer(salt)
        kept = self.__dict__.get("_signer")
        if kept is None:
            kept = self.__dict__["_signer"] = super().make_signer()
        return kept


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, signed uncompressed by a serializer built once per key set."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the serializer Flask would build (same keys, salt, JSON and signer), uncompressed and kept."""
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = app.extensions.get("session_serializer")
        if kept is None or kept[0] != keys:
            serializer = UncompressedSerializer(
                [*keys[1], keys[0]],  # itsdangerous signs with the last key and checks every one
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
            )
            kept = app.extensions["session_serializer"] = (keys, serializer)
        return kept[1]


def csrf_serializer(app: Flask) -> URLSafeTimedSerializer:
    """Return the serializer that signs Flask-WTF's tokens (its key and salt), uncompressed and kept."""
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    kept = app.extensions.get("csrf_serializer")
    if kept is None or kept[0] != secret:
        kept = app.extensions["csrf_serializer"] = (secret, UncompressedSerializer(secret, salt=CSRF_SALT))
    return kept[1]


def csrf_field(app: Flask) -> str:
    """Return the name under which Flask-WTF keeps the token's secret in the session (and posts the token)."""
    return app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"


def new_csrf_secret() -> str:
    """Return a token's secret half as Flask-WTF makes it: 40 hex digits (160 random bits)."""
    return os.urandom(20).hex()


def csrf_token() -> str:
    """Return this request's CSRF token as flask_wtf.csrf.generate_csrf makes it (same session key and g entry)."""
    app = current_app._get_current_object()
    field = csrf_field(app)
    token = g.get(field)
    if token is None:
        if not isinstance(session.get(field), str):
            session[field] = new_csrf_secret()
        token = csrf_serializer(app).dumps(session[field])
        setattr(g, field, token)
    return token
