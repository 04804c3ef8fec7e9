"""HR page of API tokens: the active ones, each with a button that revokes it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import accounts
from ..db import get_db
from ..security import login_required
from . import bp
from .forms import ActionForm


@bp.route("/tokens")
@login_required("hr")
def tokens_page():
    """List the active API tokens (never the tokens themselves)."""
    return render_template("admin/tokens.html", tokens=accounts.list_tokens(get_db()), action=ActionForm())


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required("hr")
def revoke_token(token_id: int):
    """Revoke one API token; it stops working at once."""
    if not ActionForm().validate_on_submit():
        abort(400, description=_("Revoke a token with the button on the API tokens page."))
    if accounts.revoke_token(get_db(), token_id):
        flash(_("API token #%(id)s is revoked; it no longer works.", id=token_id), "ok")
    else:
        flash(_("There is no active API token #%(id)s.", id=token_id), "error")
    return redirect(url_for("admin.tokens_page"), 303)
