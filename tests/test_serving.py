"""Production serving: the access log never records an invitation token."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from gunicorn.config import Config

from survey.serving import TokenScrubbingLogger


def test_access_log_scrubs_invitation_tokens():
    logger = TokenScrubbingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/i/abcDEF123_secret",
        "PATH_INFO": "/i/abcDEF123_secret",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    resp = SimpleNamespace(status="302 FOUND", response_length=0, sent=0, headers=[])
    req = SimpleNamespace(headers=[], method="GET", path="/i/abcDEF123_secret", query="", uri="/i/abcDEF123_secret")
    atoms = logger.atoms(resp, req, environ, dt.timedelta(milliseconds=3))
    assert "secret" not in atoms["U"] and atoms["U"] == "/i/…"
    assert "secret" not in atoms["r"]
    environ.update(RAW_URI="/s/demo", PATH_INFO="/s/demo")
    assert logger.atoms(resp, req, environ, dt.timedelta(milliseconds=3))["U"] == "/s/demo"
