"""HR pages for invitations: import a list, send invitations and reminders, download links, follow the rate."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import export, invitations, links, rates, surveys
from ..db import get_db, today
from ..invitations import mailings
from ..invitations import smtp as mailer
from ..invitations.csv_import import CsvReport
from ..security import login_required
from . import bp, survey_or_404
from .forms import ImportForm, MailForm

# Words in the names of downloaded files (not translated: file names stay the same in every language).
KIND_WORDS = {"invitation": "invitations", "reminder": "reminders", "nudge": "reminders"}


def _page(survey: surveys.Survey, status: int = 200, report: CsvReport | None = None, error: str | None = None):
    """Render the invitations page, with an import report or an error when there is one."""
    db = get_db()
    smtp_error = None
    try:
        smtp = mailings.smtp_settings()
    except mailer.MailConfigError as exc:
        smtp, smtp_error = None, str(exc)
    return (
        render_template(
            "admin/invitations_page.html",
            survey=survey,
            rates=rates.response_rates(db, survey),
            invites=invitations.invitation_counts(db, survey),
            mail=mailings.status(db, survey),
            smtp=smtp,
            smtp_error=smtp_error,
            base=links.base_url(),
            base_configured=links.base_url_configured(),
            import_form=ImportForm(),
            mail_form=MailForm(),
            report=report,
            error=error,
            list_separator=export.list_separator(g.lang),
        ),
        status,
    )


@bp.route("/surveys/<slug>/invitations")
@login_required("hr")
def invitations_page(slug: str):
    """Show invitations, mailings and the response rate of a survey."""
    return _page(survey_or_404(slug))


@bp.route("/surveys/<slug>/invitations/import", methods=["POST"])
@login_required("hr")
def import_invitations(slug: str):
    """Import an invitation list; a file with any bad row imports nothing and lists the bad rows."""
    survey = survey_or_404(slug)
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(survey, 400, error=" ".join(str(e) for errs in form.errors.values() for e in errs))
    report = invitations.import_invitations(get_db(), survey, form.file.data.read(), dry_run=form.dry_run.data)
    return _page(survey, 200 if report.ok else 400, report=report)


def _mail_form() -> MailForm:
    form = MailForm()
    if not form.validate_on_submit():
        abort(400, description=_("Send the form from the invitations page (kind 'invitation' or 'reminder')."))
    return form


@bp.route("/surveys/<slug>/invitations/send", methods=["POST"])
@login_required("hr")
def send_mail(slug: str):
    """Send (or go on sending) invitations or reminders by e-mail, for at most MAIL_BATCH_SECONDS."""
    survey = survey_or_404(slug)
    form = _mail_form()
    kind = form.kind.data
    try:
        settings = mailings.smtp_settings()
        if settings is None:
            raise mailings.MailingError(_("E-mail is not set up (FLASK_SMTP_HOST); download the links instead."))
        report = mailings.send_batch(
            get_db(),
            survey,
            kind,
            settings,
            max_seconds=float(current_app.config["MAIL_BATCH_SECONDS"]),
            retry_unconfirmed=form.retry_unconfirmed.data == "1",
        )
    except (mailings.MailingError, mailer.MailConfigError, mailer.TemporaryMailError) as exc:
        return _page(survey, 409, error=str(exc))
    if kind == "invitation":
        flash(ngettext("Sent %(num)s invitation.", "Sent %(num)s invitations.", report.sent), "ok")
    else:
        flash(ngettext("Sent %(num)s reminder.", "Sent %(num)s reminders.", report.sent), "ok")
    for address, reason in report.refused[:10]:
        flash(_("Not delivered to %(address)s: %(reason)s", address=address, reason=reason), "error")
    if report.stopped:
        flash(
            ngettext(
                "Sending stopped: %(reason)s %(num)s still to send; press the button again.",
                "Sending stopped: %(reason)s %(num)s still to send; press the button again.",
                report.remaining,
                reason=report.stopped,
            ),
            "error",
        )
    elif report.finished:
        flash(
            _("All invitations of this batch are sent.")
            if kind == "invitation"
            else _("All reminders of this batch are sent."),
            "ok",
        )
    if report.unconfirmed:
        flash(
            ngettext(
                "%(num)s message broke off while being handed to the mail server and may not have arrived; "
                "it is not sent again unless you choose to.",
                "%(num)s messages broke off while being handed to the mail server and may not have arrived; "
                "they are not sent again unless you choose to.",
                report.unconfirmed,
            ),
            "error",
        )
    return redirect(url_for("admin.invitations_page", slug=slug), 303)


@bp.route("/surveys/<slug>/invitations/links", methods=["POST"])
@bp.route("/surveys/<slug>/invitations/links.csv", methods=["POST"])
@login_required("hr")
def export_links(slug: str):
    """Download fresh personal links (for HR's own mail tool) of those a batch would reach, as XLSX or CSV.

    The CSV uses the list separator of the reader's language (';' in Norwegian), so that a
    spreadsheet opens it in columns; the form's `format` field chooses (CSV when left out).
    """
    survey = survey_or_404(slug)
    kind = _mail_form().kind.data
    fmt = "xlsx" if request.form.get("format") == "xlsx" else "csv"
    try:
        rows = mailings.export_links(get_db(), survey, kind)
    except mailings.MailingError as exc:
        return _page(survey, 409, error=str(exc))
    if not rows:
        flash(
            _("Nobody is due for invitations: there is no file to download.")
            if kind == "invitation"
            else _("Nobody is due for reminders: there is no file to download."),
            "ok",
        )
        return redirect(url_for("admin.invitations_page", slug=slug), 303)
    columns = ["email", "department", "language", "link"]
    name = f"{survey.slug}-{KIND_WORDS[kind]}-{today()}.{fmt}"
    # Never cached: the file is the only place these links exist.
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "xlsx":
        table = [[row[column] for column in columns] for row in rows]
        data = export.to_xlsx(columns, table, lang=g.lang)
        return Response(data, mimetype=XLSX, headers=headers)
    out = io.StringIO()
    # A byte-order mark, so that spreadsheets read æøå in names.
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=export.list_separator(g.lang), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv", headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
