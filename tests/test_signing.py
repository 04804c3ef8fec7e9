"""Session cookies and CSRF tokens signed uncompressed: the same format, keys and checks as Flask's and Flask-WTF's."""

from __future__ import annotations

import os
import zlib

import pytest
from flask import g, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import URLSafeTimedSerializer
from wtforms import ValidationError

from survey import signing


@pytest.fixture
def fixed_time(monkeypatch):
    """Sign at one fixed second, so that two signers' outputs can be compared byte for byte."""
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: 1_795_000_000)


def test_an_uncompressed_value_is_what_itsdangerous_writes_when_zlib_gains_nothing(fixed_time):
    """Random values never compress: for them the output is itsdangerous's own, and each reads the other's."""
    ours = signing.UncompressedSerializer("k" * 40, salt="wtf-csrf-token")
    theirs = URLSafeTimedSerializer("k" * 40, salt="wtf-csrf-token")
    for _ in range(20):
        value = os.urandom(20).hex()
        assert ours.dumps(value) == theirs.dumps(value)
        assert theirs.loads(ours.dumps(value)) == value
    compressible = "a" * 200
    assert theirs.dumps(compressible).startswith(".")  # itsdangerous compressed it
    assert not ours.dumps(compressible).startswith(".")
    assert ours.loads(theirs.dumps(compressible)) == compressible  # values signed before still read


def test_nothing_is_compressed(monkeypatch):
    """No zlib on the way out (a secret next to visitor-chosen values is what compression side channels read)."""

    def refuse(*args, **kwargs):
        raise AssertionError("zlib.compress called")

    monkeypatch.setattr(zlib, "compress", refuse)
    serializer = signing.UncompressedSerializer("k" * 40, salt="cookie-session")
    assert serializer.loads(serializer.dumps({"csrf_token": "a" * 200})) == {"csrf_token": "a" * 200}


def test_a_wrong_key_or_salt_is_refused():
    """Keeping the signer changes nothing about what it accepts."""
    value = signing.UncompressedSerializer("k" * 40, salt="cookie-session").dumps({"x": 1})
    for other in (
        signing.UncompressedSerializer("other-key" * 5, salt="cookie-session"),
        signing.UncompressedSerializer("k" * 40, salt="wtf-csrf-token"),
    ):
        with pytest.raises(Exception, match="Signature"):
            other.loads(value)


def test_the_session_cookie_is_read_by_flasks_own_interface_and_the_other_way(app):
    """A session written here reads with Flask's stock interface, and a stock one (compressed or not) reads here."""
    ours, stock = app.session_interface, SecureCookieSessionInterface()
    assert isinstance(ours, signing.SessionInterface)
    data = {"csrf_token": os.urandom(20).hex(), "lang": "nb"}
    assert stock.get_signing_serializer(app).loads(ours.get_signing_serializer(app).dumps(data)) == data
    big = {"csrf_token": "a" * 300}
    assert ours.get_signing_serializer(app).loads(stock.get_signing_serializer(app).dumps(big)) == big


def test_an_old_secret_key_still_reads_and_the_new_one_signs(make_app):
    """SECRET_KEY_FALLBACKS keeps sessions signed with the previous key, as Flask's own interface does."""
    old = make_app(SECRET_KEY="the-old-key-" * 3)
    value = old.session_interface.get_signing_serializer(old).dumps({"csrf_token": "b" * 40})
    new = make_app(SECRET_KEY="the-new-key-" * 3, SECRET_KEY_FALLBACKS=["the-old-key-" * 3])
    serializer = new.session_interface.get_signing_serializer(new)
    assert serializer.loads(value) == {"csrf_token": "b" * 40}
    fresh = serializer.dumps({"csrf_token": "c" * 40})
    with pytest.raises(Exception, match="Signature"):
        old.session_interface.get_signing_serializer(old).loads(fresh)


def test_the_csrf_token_is_flask_wtfs(app):
    """csrf_token() keeps its secret where Flask-WTF does, returns what generate_csrf returns, and validates."""
    with app.test_request_context("/s/acme"):
        token = signing.csrf_token()
        assert g.csrf_token == token == generate_csrf()
        assert len(session["csrf_token"]) == 40 and int(session["csrf_token"], 16) >= 0
        validate_csrf(token)
        with pytest.raises(ValidationError):
            validate_csrf(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with app.test_request_context("/s/acme"):
        session["csrf_token"] = "d" * 40
        assert URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(signing.csrf_token()) == "d" * 40
