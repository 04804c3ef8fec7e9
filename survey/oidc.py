"""Single sign-on with OpenID Connect (Authlib): authorization code flow with PKCE and a nonce.

Configured by FLASK_OIDC_* (see config.py). The provider's discovery document is read on the
first sign-in, not at start-up, so the app starts even while the provider is unreachable.
The role comes from one claim (OIDC_ROLE_CLAIM, e.g. "groups", or a dotted path such as
"realm_access.roles") whose values are mapped to hr and facilitator; an identity without
a mapped role is refused.
"""

from __future__ import annotations

import ipaddress
import threading
from urllib.parse import urlsplit

from flask import current_app

from . import links

PROVIDER = "sso"
_LOCK = threading.Lock()


class SignInError(Exception):
    """Single sign-on failed; the message can be shown to the person signing in."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.message, self.status = message, status


def configured() -> bool:
    """Return True when single sign-on is set up (an issuer and a client id)."""
    config = current_app.config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def display_name() -> str | None:
    """Return the provider's name for the "Sign in with ..." button, or None when not configured."""
    return str(current_app.config.get("OIDC_NAME") or "single sign-on") if configured() else None


def issuer() -> str:
    """Return the configured issuer, without a trailing slash."""
    return str(current_app.config["OIDC_ISSUER"]).rstrip("/")


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    # Tokens and identities must not travel in clear, except to a provider on this machine (tests).
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SignInError(f"The identity provider's address must use https: {url}", 503)


def values(setting: str) -> set[str]:
    """Return a comma-separated (or JSON list) setting as a set of strings."""
    raw = current_app.config.get(setting) or ""
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return {str(item).strip() for item in items if str(item).strip()}


def client():
    """Return this app's Authlib client for the provider, registering it on first use."""
    app = current_app._get_current_object()
    found = app.extensions.get("oidc_client")
    if found is not None:
        return found
    from authlib.integrations.flask_client import OAuth

    with _LOCK:
        found = app.extensions.get("oidc_client")
        if found is None:
            config = app.config
            discovery = config.get("OIDC_DISCOVERY_URL") or f"{issuer()}/.well-known/openid-configuration"
            _check_url(issuer())
            _check_url(discovery)
            oauth = OAuth(app)
            oauth.register(
                name=PROVIDER,
                client_id=config["OIDC_CLIENT_ID"],
                client_secret=config.get("OIDC_CLIENT_SECRET") or None,
                server_metadata_url=discovery,
                client_kwargs={
                    "scope": str(config.get("OIDC_SCOPES") or "openid email profile"),
                    "code_challenge_method": "S256",
                    "default_timeout": 10,
                },
            )
            found = oauth.create_client(PROVIDER)
            app.extensions["oidc_client"] = found
    return found


def redirect_uri() -> str:
    """Return the callback address, built from FLASK_BASE_URL (never from the request's Host header)."""
    return links.base_url() + "/admin/login/oidc/callback"


def claim(claims: dict, path: str) -> object:
    """Return a claim by name, or by a dotted path into nested objects."""
    if path in claims:
        return claims[path]
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_for(claims: dict) -> str | None:
    """Return the role the provider's claims map to (hr before facilitator), or None."""
    found = claim(claims, str(current_app.config.get("OIDC_ROLE_CLAIM") or "groups"))
    held = {found} if isinstance(found, str) else {str(v) for v in found} if isinstance(found, list) else set()
    if held & values("OIDC_HR_VALUES"):
        return "hr"
    if held & values("OIDC_FACILITATOR_VALUES"):
        return "facilitator"
    return None


def start():
    """Return the redirect to the provider (state, nonce and PKCE verifier are kept in the signed session)."""
    sso = client()
    try:
        metadata = sso.load_server_metadata()
    except Exception as exc:  # any failure to read the discovery document: the provider is unreachable
        raise SignInError("The identity provider could not be reached; try again later.", 502) from exc
    if str(metadata.get("issuer", "")).rstrip("/") != issuer():
        # The discovery document must name the configured issuer (OpenID Connect Discovery, section 4.3).
        raise SignInError("The identity provider's discovery document names another issuer.", 502)
    return sso.authorize_redirect(redirect_uri())


def finish() -> dict:
    """Complete the sign-in on the callback: exchange the code, check the ID token, return its claims."""
    sso = client()
    try:
        token = sso.authorize_access_token()
    except Exception as exc:
        # Authlib, joserfc and requests raise many types (state mismatch, bad signature, wrong nonce,
        # provider down, an error answer): each one means this sign-in did not succeed.
        from authlib.integrations.base_client import OAuthError

        if isinstance(exc, OAuthError) and exc.error == "access_denied":
            raise SignInError("The sign-in was cancelled at the identity provider.", 401) from exc
        raise SignInError("The sign-in could not be completed; start again from the login page.", 401) from exc
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise SignInError("The identity provider sent no valid ID token; start again from the login page.", 401)
    if sso.load_server_metadata().get("userinfo_endpoint"):
        try:
            more = dict(sso.userinfo(token=token))
        except Exception:  # the ID token alone is enough when the userinfo endpoint fails
            more = {}
        if more.get("sub") == claims["sub"]:
            claims = {**more, **claims}
    return claims
