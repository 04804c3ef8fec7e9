"""The audit trail: who (an account, an API token, the command line) did what and when, in an append-only table.

It records the actions of HR, facilitators and administrators, never anything about
respondents: no answer, no comment, no invitation e-mail address, no respondent's request.
Targets are survey addresses (slugs), token numbers and account e-mails; details are counts
and the options chosen (department code, language, format). SQLite triggers refuse every
UPDATE and DELETE of audit_log; only the retention purge (FLASK_AUDIT_RETENTION_DAYS, off by
default) may delete rows older than that, through a gate it opens in its own transaction.
The triggers guard against the app's own mistakes and casual edits: someone who can write the
database file can also drop triggers, so copies (backups) are what make the trail trustworthy.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Flask, Response, g, has_app_context, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlite_utils import Database

from .db import get_db, write_transaction

COMMAND_LINE = "command line"
UNKNOWN_ACCOUNT = "unknown account"
AUTOMATIC = "automatic (retention)"

LABELS = {
    "signed-in": _l("signed in"),
    "sign-in-failed": _l("sign-in failed"),
    "sign-in-refused": _l("sign-in refused"),
    "signed-out": _l("signed out"),
    "survey-created": _l("survey created"),
    "survey-opened": _l("survey opened"),
    "survey-closed": _l("survey closed"),
    "survey-reopened": _l("survey reopened"),
    "survey-deleted": _l("survey deleted"),
    "survey-scheduled": _l("survey dates set"),
    "survey-archived": _l("survey archived"),
    "survey-unarchived": _l("survey back in the list"),
    "departments-changed": _l("departments changed"),
    "comments-read": _l("comments read"),
    "results-read": _l("results read"),
    "comparison-read": _l("comparison read"),
    "report-downloaded": _l("report downloaded"),
    "comparison-report-downloaded": _l("comparison report downloaded"),
    "export-downloaded": _l("export downloaded"),
    "comments-downloaded": _l("comments downloaded"),
    "invitation-links-created": _l("invitation links created"),
    "invitations-imported": _l("invitations imported"),
    "invitations-sent": _l("invitations or reminders sent"),
    "invitation-links-exported": _l("invitation links downloaded"),
    "token-created": _l("API token created"),
    "token-revoked": _l("API token revoked"),
    "user-created": _l("account created"),
    "user-disabled": _l("account disabled"),
    "user-enabled": _l("account enabled"),
    "password-changed": _l("password changed"),
    "retention-purge": _l("data erased after its retention period"),
    "audit-exported": _l("audit trail downloaded"),
}

# Reading and downloading pages are recorded when they answer with success; the other actions
# are recorded where they happen (surveys, accounts, invitations, retention).
READS = {
    "admin.results_page": "results-read",
    "api.survey_results": "results-read",
    "admin.compare_page": "comparison-read",
    "api.survey_compare": "comparison-read",
    "admin.report_pdf": "report-downloaded",
    "api.survey_report": "report-downloaded",
    "admin.compare_pdf": "comparison-report-downloaded",
    "admin.export_download": "export-downloaded",
    "admin.comments_download": "comments-downloaded",
    "admin.comments_page": "comments-read",
    "admin.audit_csv": "audit-exported",
}
# The only request parameters a record may repeat: choices of the person reading, never respondent text.
OPTIONS = ("department", "lang", "fmt", "sort")


def now() -> str:
    """Return the current UTC time to the second, as the trail stores it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_actor() -> str:
    """Return who is acting: the signed-in account's e-mail, "token #id", or "command line"."""
    if has_request_context():
        user = g.get("user")
        if user:
            return user["email"]
        if g.get("token_id") is not None:
            return f"token #{g.token_id}"
        return UNKNOWN_ACCOUNT
    return COMMAND_LINE


def record(
    db: Database, action: str, target: str | None = None, detail: str | None = None, actor: str | None = None
) -> None:
    """Append one entry; inside the caller's transaction when there is one, so it stands or falls with the change."""
    if action not in LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    row = [now(), (actor or current_actor())[:320], action, target[:200] if target else None, detail]
    sql = "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)"
    if db.conn.in_transaction:
        db.execute(sql, row)
    else:
        with write_transaction(db):
            db.execute(sql, row)


def entries(db: Database, limit: int = 200, before: int | None = None, action: str | None = None) -> list[dict]:
    """Return the newest entries first (at most limit), older than id `before` when given."""
    where, params = [], []
    if before is not None:
        where.append("id < ?")
        params.append(before)
    if action:
        where.append("action = ?")
        params.append(action)
    sql = "SELECT id, at, actor, action, target, detail FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return list(db.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit]))


def to_csv(db: Database) -> str:
    """Write the whole trail as CSV, oldest first (UTF-8 with a byte-order mark, for spreadsheets)."""
    from .export import neutralise

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "at", "actor", "action", "target", "detail"])
    for row in db.query("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id"):
        writer.writerow([neutralise(v) for v in row.values()])
    return out.getvalue()


def record_read(response: Response) -> Response:
    """Record a successful reading or download of results, reports, exports and the trail itself."""
    action = READS.get(request.endpoint or "")
    if action and response.status_code < 400 and has_app_context():
        args = {**(request.view_args or {}), **request.args.to_dict()}
        detail = ", ".join(f"{k}={str(args[k])[:40]}" for k in OPTIONS if args.get(k))
        record(get_db(), action, (request.view_args or {}).get("slug"), detail or None)
    return response


def init_app(app: Flask) -> None:
    """Record reads after each request."""
    app.after_request(record_read)
