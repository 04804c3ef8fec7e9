"""'Not applicable' stored apart from a blank; readable export headers with the codes kept; a sheet that explains
every column; files that open in columns in Norwegian spreadsheets."""

from __future__ import annotations

import csv
import io
import sqlite3

import numpy as np
import pytest
from helpers import close_survey, csrf_token, import_csv
from openpyxl import load_workbook

from survey import results, surveys
from survey.db import NOT_APPLICABLE, connect, get_db, migrate, migrations

K = 5


def stored(db, slug: str = "acme") -> list[dict[str, int]]:
    """Return every stored response of a survey as {item id: stored value}."""
    out: dict[int, dict[str, int]] = {}
    for row in db.query(
        """SELECT a.response_id, i.item_id, a.value FROM answers a JOIN responses r ON r.id = a.response_id
           JOIN surveys s ON s.id = r.survey_id
           JOIN survey_items i ON i.survey_id = r.survey_id AND i.position = a.item WHERE s.slug = ?""",
        [slug],
    ):
        out.setdefault(row["response_id"], {})[row["item_id"]] = row["value"]
    return list(out.values())


def test_the_form_stores_not_applicable_and_leaves_a_blank_out(client, db):
    """'na' is stored as NOT_APPLICABLE; a statement left blank has no row at all."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = {"department": "A", "q_obs1": "na", "q_obs3": "4", "confirm_few": "1", "csrf_token": csrf_token(page)}
    assert "Thank you for your answers" in client.post("/s/acme", data=data).get_data(as_text=True)
    assert stored(db) == [{"obs1": NOT_APPLICABLE, "obs3": 4}]


def test_the_api_stores_null_as_not_applicable_and_an_omitted_item_as_skipped(client, db):
    """In the API, null is 'not applicable' and an item left out was skipped; 'answered' counts 1..5 only."""
    body = {"department": "B", "answers": {"obs1": None, "obs2": 5}}
    response = client.post("/api/v1/surveys/acme/responses", json=body)
    assert response.status_code == 201 and response.get_json()["answered"] == 1
    assert stored(db) == [{"obs1": NOT_APPLICABLE, "obs2": 5}]
    only_na = client.post("/api/v1/surveys/acme/responses", json={"department": "B", "answers": {"obs1": None}})
    assert only_na.status_code == 422


def test_the_database_refuses_any_other_value(db):
    """The CHECK of the answers table holds 1..6: a 7 or a 0 is refused by SQLite itself."""
    db.execute("INSERT INTO responses (id, survey_id, department_id, submitted_on) VALUES (5, 1, 1, '2026-01-01')")
    db.execute("INSERT INTO answers (response_id, item, value) VALUES (5, 0, 6)")
    for bad in (0, 7):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO answers (response_id, item, value) VALUES (5, 1, ?)", [bad])


def test_an_older_database_keeps_its_answers_when_the_check_changes(tmp_path):
    """m008 rebuilds the answers table: every stored answer stays, and 6 is allowed from then on."""
    path = str(tmp_path / "old.sqlite")
    old = connect(path)
    migrations.apply(old, stop_before="m008_not_applicable")
    old.execute(
        "INSERT INTO surveys (id, slug, title, language, status, instrument, created_on) "
        "VALUES (1, 's', 'S', 'nb', 'open', '{}', '2025-01-01')"
    )
    old.execute("INSERT INTO departments (id, survey_id, code, name) VALUES (1, 1, 'A', 'A')")
    old.execute("INSERT INTO responses (id, survey_id, department_id, submitted_on) VALUES (7, 1, 1, '2025-01-02')")
    old.execute("INSERT INTO answers (response_id, item, value) VALUES (7, 0, 4), (7, 3, 1)")
    with pytest.raises(sqlite3.IntegrityError):
        old.execute("INSERT INTO answers (response_id, item, value) VALUES (7, 1, 6)")
    old.conn.commit()
    old.close()
    db = connect(path)
    migrate(db)
    assert db.execute("SELECT response_id, item, value FROM answers ORDER BY item").fetchall() == [(7, 0, 4), (7, 3, 1)]
    db.execute("INSERT INTO answers (response_id, item, value) VALUES (7, 1, 6)")
    db.execute("DELETE FROM responses WHERE id = 7")  # the cascade still holds after the rebuild
    assert db["answers"].count == 0
    db.close()


def rounded(value: object) -> object:
    """Return nested figures with every float rounded to 9 digits."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def test_not_applicable_is_missing_in_every_figure(app, client, instrument):
    """The same answers with 'na' or with blanks give exactly the same results: n, means, favourable, alpha."""
    rng = np.random.default_rng(3)
    with app.app_context():
        db = get_db()
        for slug, gap in (("with-na", None), ("with-blank", "")):
            surveys.create_survey(db, instrument, slug, "en", [{"code": "A", "name": "A"}], slug=slug)
    for _ in range(24):
        answers = {item.id: int(rng.integers(1, 6)) for item in instrument.items}
        missing = [item.id for item in instrument.items if rng.random() < 0.2]
        for slug, gap in (("with-na", None), ("with-blank", "")):
            given = {**answers, **dict.fromkeys(missing, gap)}
            given = {key: value for key, value in given.items() if value != ""}
            assert (
                client.post(f"/api/v1/surveys/{slug}/responses", json={"department": "A", "answers": given}).status_code
                == 201
            )
    figures = {}
    with app.app_context():
        db = get_db()
        for slug in ("with-na", "with-blank"):
            close_survey(app, slug)
            figures[slug] = results.survey_results(db, surveys.get_survey(db, slug))
    # Responses come back in the order of their random ids: sums may differ in the last bit.
    na, blank = rounded(figures["with-na"]), rounded(figures["with-blank"])
    assert (
        na["dimensions"] == blank["dimensions"] and na["items"] == blank["items"] and na["pyramid"] == blank["pyramid"]
    )
    assert all(d["n"] > 0 for d in na["dimensions"]) and any(d["alpha_n"] > 0 for d in na["dimensions"])


def demo_closed(app) -> None:
    """Make a closed survey 'acme' with enough answers in A and B, some 'na' and some blanks."""
    client = app.test_client()
    for n in range(12):
        answers = {"obs1": None if n % 3 == 0 else 4, "obs2": 3, "fol1": 5}
        if n % 4 == 0:
            answers.pop("obs2")
        body = {"department": "A" if n < 7 else "B", "answers": answers, "enps": 8}
        assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    close_survey(app)


def read_csv(text: str, separator: str) -> list[list[str]]:
    """Read a downloaded CSV (byte-order mark first) with the given separator."""
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=separator))


def test_the_csv_export_has_readable_headers_and_tells_not_applicable_from_skipped(app, hr_client, instrument):
    """Headers 'Level · code · statement…' (codes kept); 'Not applicable' in words, a skipped statement empty."""
    demo_closed(app)
    rows = read_csv(hr_client.get("/admin/surveys/acme/export.csv?lang=en").get_data(as_text=True), ",")
    header = rows[0]
    obs1 = instrument.item("obs1")
    assert header[0] == "department"
    assert header[1].startswith(f"Observing · obs1 · {obs1.text['en'][:20]}")
    assert all(len(cell.split(" · ")[2]) <= 60 for cell in header[1:])
    codes = [cell.split(" · ")[1] for cell in header[1:]]
    assert codes == [item.id for item in instrument.items] + ["enps"]
    column = {code: n + 1 for n, code in enumerate(codes)}
    obs1_cells = [row[column["obs1"]] for row in rows[1:]]
    obs2_cells = [row[column["obs2"]] for row in rows[1:]]
    assert sorted(set(obs1_cells)) == ["4", "Not applicable"] and obs1_cells.count("Not applicable") == 4
    assert sorted(set(obs2_cells)) == ["", "3"] and obs2_cells.count("") == 3


def test_the_norwegian_csv_opens_in_columns(app, hr_client, instrument):
    """In bokmål and nynorsk the export is separated by ';', with Norwegian headers and 'not applicable'."""
    demo_closed(app)
    rows = read_csv(hr_client.get("/admin/surveys/acme/export.csv?lang=nb").get_data(as_text=True), ";")
    assert rows[0][0] == "avdeling" and rows[0][1].startswith(f"{instrument.levels[0].name['nb']} · obs1 · ")
    assert all(len(row) == len(rows[0]) for row in rows)
    assert "Ikke relevant" in {cell for row in rows for cell in row}
    nynorsk = read_csv(hr_client.get("/admin/surveys/acme/comments.csv?lang=nn").get_data(as_text=True), ";")
    assert nynorsk[0] == ["kommentar"]


def test_the_xlsx_explains_every_column(app, hr_client, instrument):
    """The workbook's 'columns' sheet names each column with its code, level and whole statement, and the values."""
    demo_closed(app)
    book = load_workbook(io.BytesIO(hr_client.get("/admin/surveys/acme/export.xlsx?lang=en").data))
    assert book.sheetnames == ["responses", "comments", "columns"]
    header = next(book["responses"].values)
    notes = [row for row in book["columns"].values]
    assert notes[0] == ("column", "code", "level", "statement or question")
    described = {row[0]: row for row in notes[1 : len(header) + 1]}
    assert list(described) == list(header)
    for item in instrument.items:
        row = next(r for r in described.values() if r[1] == item.id)
        assert row[3] == item.text["en"] and row[2] == instrument.level(item.level).name["en"]
    text = " ".join(str(cell) for row in notes for cell in row if cell)
    assert "1 = " + instrument.scale["en"][0] in text and "“Not applicable”: the respondent chose" in text
    assert "An empty cell: the statement was left blank" in text and "never as zero" in text


def test_the_links_file_opens_in_columns_in_a_norwegian_spreadsheet(app, hr_client):
    """The links for one's own mail tool: ';' in Norwegian, ',' in English, or an XLSX file."""
    import_csv(app, "a@example.org,A\nb@example.org,B,nb\n")
    page = hr_client.get("/admin/surveys/acme/invitations?lang=nb").get_data(as_text=True)
    assert "Excel (XLSX)" in page and "«;»" in page
    token = csrf_token(page)
    data = {"csrf_token": token, "kind": "invitation", "format": "csv"}
    response = hr_client.post("/admin/surveys/acme/invitations/links?lang=nb", data=data)
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response.get_data(as_text=True), ";")
    assert rows[0] == ["email", "department", "language", "link"] and len(rows) == 3
    with app.app_context():
        db = get_db()
        db.execute("UPDATE invitations SET sent_on = '2000-01-01'")  # so that a reminder is due
        db.conn.commit()
    data = {"csrf_token": token, "kind": "reminder", "format": "xlsx"}
    response = hr_client.post("/admin/surveys/acme/invitations/links", data=data)
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = list(load_workbook(io.BytesIO(response.data)).active.values)
    assert sheet[0] == ("email", "department", "language", "link") and len(sheet) == 3
    assert {row[0] for row in sheet[1:]} == {"a@example.org", "b@example.org"}
