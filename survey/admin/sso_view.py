"""Single sign-on pages: start at the identity provider, come back on the callback, or be told why not."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session

from .. import accounts, audit, oidc, sessions
from ..db import get_db
from . import _safe_next, bp

NEXT_KEY = "oidc_next"


def refused(message: str, status: int):
    """Explain on a page of its own why the sign-in did not succeed."""
    return render_template("admin/sso_refused.html", message=message, provider=oidc.display_name()), status


@bp.route("/login/oidc")
def sso_start():
    """Go to the identity provider to sign in."""
    if not oidc.configured():
        abort(404)
    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    try:
        return oidc.start()
    except oidc.SignInError as exc:
        return refused(exc.message, exc.status)


@bp.route("/login/oidc/callback")
def sso_callback():
    """Come back from the identity provider: check the answer, find or create the account, start a session."""
    if not oidc.configured():
        abort(404)
    db = get_db()
    try:
        claims = oidc.finish()
    except oidc.SignInError as exc:
        audit.record(db, "sign-in-failed", detail=f"single sign-on: {exc.message}", actor=audit.UNKNOWN_ACCOUNT)
        return refused(exc.message, exc.status)
    email = str(claims.get("email") or "").strip() or None
    who = email or f"subject {str(claims['sub'])[:80]}"
    role = oidc.role_for(claims)
    if role is None:
        audit.record(db, "sign-in-refused", detail="single sign-on: no role from the identity provider", actor=who)
        message = (
            f"You signed in at {oidc.display_name()} as {who}, but your account there gives you no role in this app "
            "(neither HR nor facilitator). Ask your administrator for access."
        )
        return refused(message, 403)
    try:
        verified = claims.get("email_verified") is True
        user = accounts.sso_user(db, oidc.issuer(), str(claims["sub"]), email, verified, role)
    except accounts.AccountError as exc:
        audit.record(db, "sign-in-refused", detail=f"single sign-on: {exc}", actor=who)
        return refused(str(exc), 403)
    target = _safe_next(session.get(NEXT_KEY))
    sessions.begin(db, user["id"])
    audit.record(db, "signed-in", detail=f"single sign-on, role={role}", actor=user["email"])
    return redirect(target)
