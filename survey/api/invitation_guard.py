"""Throttle invitation-token guessing on POST /surveys/<slug>/responses, like /i/<token> does."""

from __future__ import annotations

import json

from flask import jsonify, request

from .. import throttle
from . import bp

ENDPOINT = "api.submit_response"


def _names_an_invitation() -> bool:
    # Parsed, not searched for: an escaped key ("\\u0069nvitation") must not slip past.
    try:
        data = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "invitation" in data


@bp.before_request
def refuse_guessers():
    """Answer 429 to a client that sent too many wrong invitation tokens lately."""
    if request.endpoint != ENDPOINT or request.method != "POST" or not _names_an_invitation():
        return None
    wait = throttle.wait_seconds()
    if not wait:
        return None
    response = jsonify(error=f"Too many wrong invitation tokens from this address; try again in {wait} seconds.")
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


@bp.after_request
def count_wrong_tokens(response):
    """Count a submission refused for an unknown invitation token against its client."""
    if request.endpoint == ENDPOINT and response.status_code == 422:
        body = response.get_json(silent=True) or {}
        if "invitation" in (body.get("fields") or {}):
            throttle.note_wrong_token()
    return response
