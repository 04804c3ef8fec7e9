"""Public links: built from the configured base URL, never from the request's Host header."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from .config import DEFAULT_BASE_URL


def check_base_url(value: str | None) -> str:
    """Return a configured base URL without its trailing slash; raise ValueError saying what is wrong."""
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"FLASK_BASE_URL must be the public address, e.g. https://survey.example.org (got {value!r}).")
    return value.rstrip("/")


def base_url_configured() -> bool:
    """Return True when FLASK_BASE_URL is set, so links reach people outside this machine."""
    return bool(current_app.config.get("BASE_URL"))


def base_url() -> str:
    """Return the public address for links: FLASK_BASE_URL, else the local default."""
    # Never request.host_url: the Host header is chosen by the client, and a link built
    # from it could send respondents (and their invitation tokens) to another site.
    return (current_app.config.get("BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def public_url(endpoint: str, **values: object) -> str:
    """Return the absolute public URL of an endpoint; works in commands, without a request."""
    # Bind without the request's script root: a path prefix belongs in FLASK_BASE_URL.
    adapter = current_app.url_map.bind("localhost")
    return base_url() + adapter.build(endpoint, {k: v for k, v in values.items() if v is not None})


def survey_link(slug: str, department_code: str | None = None) -> str:
    """Return the open link of a survey, or its link for one department."""
    return public_url("respond.open_link", slug=slug, d=department_code)


def invitation_link(token: str) -> str:
    """Return the personal link for an invitation token."""
    return public_url("respond.invitation", token=token)
