"""HR page of the audit trail (who did what and when), and its CSV download; facilitators get 403."""

from __future__ import annotations

from flask import Response, render_template, request

from .. import audit
from ..db import get_db, today
from ..security import login_required
from . import bp

PAGE = 200


@bp.route("/audit")
@login_required("hr")
def audit_page():
    """Show the newest entries of the audit trail, a page at a time."""
    before = request.args.get("before", type=int)
    action = request.args.get("action") or None
    if action not in audit.LABELS:
        action = None
    rows = audit.entries(get_db(), PAGE + 1, before, action)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template(
        "admin/audit.html",
        rows=rows,
        labels=audit.LABELS,
        action=action,
        older=rows[-1]["id"] if more and rows else None,
    )


@bp.route("/audit.csv")
@login_required("hr")
def audit_csv():
    """Download the whole audit trail as CSV."""
    name = f"audit-{today()}.csv"
    return Response(
        audit.to_csv(get_db()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
