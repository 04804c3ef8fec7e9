"""Respondent text never breaks an export and never reaches a log.

Comments come in through the public API with every control character a JSON string can carry
(NUL is refused at the door); the XLSX export on the web and on the command line must still be
written, with the characters a spreadsheet cannot hold shown as visible symbols, and a failure
anywhere must be logged without the text that caused it.
"""

from __future__ import annotations

import io
import logging

import pytest
from helpers import HR_EMAIL, HR_PASSWORD, close_survey, login
from openpyxl import load_workbook

from survey import accounts, export, surveys
from survey.db import get_db

CONTROLS = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r")  # BEL, ESC, form feed, ...
SECRET = "Kari-in-payroll-said-this"


@pytest.fixture
def hostile(app, client):
    """Survey 'cm' with a dozen comments (the comment threshold is 10), each holding control characters."""
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="C", language="en", slug="cm",
            departments=[{"code": "A", "name": "Alpha"}],
        )  # fmt: skip
    texts = [f"{SECRET} {n}: bell\x07 escape\x1b[31m form feed\x0c all {CONTROLS} end" for n in range(12)]
    for text in texts:
        body = {"department": "A", "answers": {"obs1": 4}, "comment": text}
        assert client.post("/api/v1/surveys/cm/responses", json=body).status_code == 201
    nul = {"department": "A", "answers": {"obs1": 4}, "comment": "a\x00b"}
    assert client.post("/api/v1/surveys/cm/responses", json=nul).status_code == 422  # refused at the door
    close_survey(app, "cm")
    return texts


def visible(text: str) -> str:
    """Return the text as the XLSX shows it: each control character replaced by the symbol that names it."""
    return "".join(chr(0x2400 + ord(ch)) if ord(ch) < 32 and ch not in "\t\n\r" else ch for ch in text)


def test_the_xlsx_export_holds_every_comment_with_control_characters_made_visible(hr_client, hostile):
    response = hr_client.get("/admin/surveys/cm/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["responses", "comments", "columns", "notes"]
    cells = sorted(row[0] for row in book["comments"].iter_rows(min_row=2, values_only=True))
    assert cells == sorted(visible(text) for text in hostile)
    assert "␇" in cells[0] and "␛" in cells[0] and "␌" in cells[0]
    (note,) = next(book["notes"].iter_rows(values_only=True))
    assert "␇ for BEL" in note
    # The CSV keeps the text as it was written (CSV can hold it; formulas are still neutralised).
    csv_text = hr_client.get("/admin/surveys/cm/comments.csv").get_data(as_text=True)
    assert all(text in csv_text for text in hostile)


def test_the_command_line_export_does_not_crash(runner, hostile, tmp_path):
    out = tmp_path / "cm.xlsx"
    result = runner.invoke(args=["export", "cm", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.exception is None and SECRET not in result.output
    book = load_workbook(out)
    assert len(list(book["comments"].iter_rows(min_row=2))) == len(hostile)


def test_cell_text_replaces_only_what_xml_cannot_hold():
    assert export.cell_text("tab\tnew\nline\rok æøå 🙂") == ("tab\tnew\nline\rok æøå 🙂", False)
    assert export.cell_text("a\x07b\x1bc\x0cd\x00") == ("a␇b␛c␌d␀", True)
    assert export.cell_text("\ufffe\uffff") == ("\ufffd\ufffd", True)
    assert export.cell_text(5) == (5, False)
    # Clean exports get no notes sheet.
    book = load_workbook(io.BytesIO(export.to_xlsx(["department"], [["A"]], ["plain"])))
    assert book.sheetnames == ["responses", "comments"]


def test_an_error_that_quotes_a_comment_is_logged_without_it(make_app, monkeypatch, caplog):
    """Whatever fails while a comment is handled, the log gets the error's type and place, never the text."""
    app = make_app(TESTING=False)  # as in production: exceptions become 500 pages and are logged
    client = app.test_client()
    with app.app_context():
        accounts.create_user(get_db(), HR_EMAIL, HR_PASSWORD, "hr")
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="C", language="en", slug="cm",
            departments=[{"code": "A", "name": "Alpha"}],
        )  # fmt: skip

    def broken(header, rows, comments=None, lang=None, columns=None):
        # As openpyxl's IllegalCharacterError did: the message quotes the cell, and so does its cause.
        try:
            raise ValueError(f"{SECRET} is the value that failed")
        except ValueError as exc:
            raise RuntimeError(f"{SECRET} cannot be used in worksheets.") from exc

    monkeypatch.setattr(export, "to_xlsx", broken)
    monkeypatch.setattr(export, "export_rows", lambda db, survey, lang=None: (["department"], [["A"]]))
    monkeypatch.setattr(export, "export_comments", lambda db, survey: [SECRET])
    assert login(client).status_code == 302
    with caplog.at_level(logging.DEBUG):
        response = client.get("/admin/surveys/cm/export.xlsx")
    assert response.status_code == 500 and SECRET not in response.get_data(as_text=True)
    logged = "\n".join(
        logging.Formatter("%(message)s").format(record) for record in caplog.records if record.name == app.logger.name
    )
    assert "RuntimeError" in logged and "ValueError" in logged and "message withheld" in logged
    assert SECRET not in logged and SECRET not in caplog.text
