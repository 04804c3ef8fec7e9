"""Invitations: CSV import, hashed tokens, the token-for-session exchange, single use under load, anonymity."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import io
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import BASE_URL, answers_for, backdate, csrf_token, import_csv

from survey import invitations, responses, surveys
from survey.db import get_db
from survey.invitations import csv_import, mailings
from survey.responses import Submission, save_response

GOOD_CSV = (
    "\ufeffE-mail;Department;Language\r\n"  # Excel's "CSV UTF-8": a byte-order mark, semicolons, CRLF
    "Ada@Example.org;A;nb\r\n"
    "bob@example.org;b;\r\n"
    "\r\n"
    "carl@example.org;C;en\r\n"
)


def survey_of(app, slug: str = "acme"):
    with app.app_context():
        return surveys.get_survey(get_db(), slug)


def issue_links(app, kind: str = "invitation") -> dict[str, str]:
    """Deliver links the way the CSV download does; return e-mail -> personal link."""
    with app.app_context():
        rows = mailings.export_links(get_db(), surveys.get_survey(get_db(), "acme"), kind)
    return {row["email"]: row["link"] for row in rows}


def token_of(link: str) -> str:
    base, _, token = link.partition("/i/")
    assert base and token and "/" not in token
    return token


def dump(db) -> str:
    """Return every value stored in every table, as text."""
    return "\n".join(
        str(row) for table in db.table_names() for row in db.execute(f"SELECT * FROM [{table}]").fetchall()
    )


# --- import ---------------------------------------------------------------------------------


def test_import_good_file(app, db):
    report = import_csv(app, GOOD_CSV.encode("utf-8"))
    assert report.ok and report.duplicates == []
    assert [(r.line, r.email, r.language) for r in report.rows] == [
        (2, "ada@example.org", "nb"),
        (3, "bob@example.org", None),
        (5, "carl@example.org", "en"),
    ]
    stored = list(
        db.query(
            "SELECT i.email, d.code, i.language, i.used, i.sent_on FROM invitations i"
            " JOIN departments d ON d.id = i.department_id ORDER BY i.id"
        )
    )
    assert stored == [
        {"email": "ada@example.org", "code": "A", "language": "nb", "used": 0, "sent_on": None},
        {"email": "bob@example.org", "code": "B", "language": None, "used": 0, "sent_on": None},
        {"email": "carl@example.org", "code": "C", "language": "en", "used": 0, "sent_on": None},
    ]


BAD_ROWS = [
    ("not-an-address,A", "is not an e-mail address"),
    ("=cmd@example.org,A", "is not an e-mail address"),  # would be a formula in a spreadsheet
    ("x@example.org,ZZ", "has no department “ZZ” (its codes: A, B, C)"),
    ("x@example.org,A,de", "The language must be nb, nn or en, not “de”."),
    ("x@example.org", "Expected 2 or 3 columns"),
    ("x@example.org,A,nb,extra", "Expected 2 or 3 columns"),
    (",A", "The e-mail address is missing"),
    ("x@example.org,", "The department code is missing."),
    ("nope,ZZ,de", "“nope” is not an e-mail address; the survey has no department “ZZ”"),
    ("bob@example.org,C", "listed for department B on line 2 and C here"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_bad_row_is_reported_by_line_and_nothing_imported(app, db, row, message):
    text = f"ann@example.org,A\nbob@example.org,B\n{row}\ndan@example.org,C\n"
    report = import_csv(app, text)
    assert not report.ok
    assert [line for line, _ in report.errors] == [3]
    assert message in report.errors[0][1]
    assert db["invitations"].count == 0  # never half a file


def test_every_bad_line_is_listed(app, db):
    report = import_csv(app, "email,department\nok@example.org,A\nbad,A\nalso@example.org,Q\nfine@example.org,B\n")
    assert [line for line, _ in report.errors] == [3, 4]
    assert db["invitations"].count == 0


def test_duplicates_are_reported_not_doubled(app, db):
    report = import_csv(app, "ann@example.org,A\nANN@example.org,A\nbob@example.org,B\n")
    assert report.ok and len(report.rows) == 2
    assert report.duplicates == [(2, "ann@example.org is listed already on line 1; skipped.")]
    # Importing the same people again adds nobody; someone new is added.
    report = import_csv(app, "bob@example.org,B\nann@example.org,A\ncid@example.org,C\n")
    assert [r.email for r in report.rows] == ["cid@example.org"]
    assert [line for line, _ in report.duplicates] == [1, 2]
    assert db["invitations"].count == 3
    # Someone invited already, now listed for another department, is an error, not a silent move.
    report = import_csv(app, "ann@example.org,B\n")
    assert report.errors == [(1, "ann@example.org has been invited already, to department A.")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file has no invitations"),
        (b"email,department\n", "The file has no invitations"),
        (b"ann@example.org,A\n\xff\xfe,B\n", "not UTF-8"),
        (b"email,name\nann@example.org,Ann\n", "no department column"),
    ],
)
def test_unusable_files(app, db, data, message):
    report = import_csv(app, data)
    assert not report.ok and message in report.errors[0][1]
    assert db["invitations"].count == 0


def test_invite_command(app, runner, db, tmp_path):
    good = tmp_path / "people.csv"
    good.write_text("email,department\nann@example.org,A\nann@example.org,A\nbob@example.org,B\n", encoding="utf-8")
    result = runner.invoke(args=["invite", "acme", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 invitation(s); 1 duplicate(s) skipped." in result.output
    assert "line 3: ann@example.org is listed already on line 2" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("cid@example.org,A\nnope,A\ndan@example.org,X\n", encoding="utf-8")
    result = runner.invoke(args=["invite", "acme", str(bad)])
    assert result.exit_code == 1
    assert "line 2:" in result.output and "line 3:" in result.output
    assert "Nothing imported: 2 lines must be fixed first." in result.output
    assert db["invitations"].count == 2
    result = runner.invoke(args=["invite", "nope", str(good)])
    assert result.exit_code == 1 and "no survey 'nope'" in result.output
    result = runner.invoke(args=["invite", "acme", "--dry-run", str(tmp_path / "people.csv")])
    assert "Would import 0 invitation(s); 3 duplicate(s) skipped." in result.output


def test_upload_on_the_hr_page(hr_client, db):
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    token = csrf_token(page)
    bad = {"csrf_token": token, "file": (io.BytesIO(b"ann@example.org,A\nx,Q\n"), "people.csv")}
    resp = hr_client.post("/admin/surveys/acme/invitations/import", data=bad, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Nothing was imported" in body
    assert "Line 2: “x” is not an e-mail address; the survey has no department “Q”" in body
    assert db["invitations"].count == 0
    good = {"csrf_token": token, "file": (io.BytesIO(b"ann@example.org,A\n<b>@x,B\nann@example.org,A\n"), "p.csv")}
    resp = hr_client.post("/admin/surveys/acme/invitations/import", data=good, content_type="multipart/form-data")
    assert resp.status_code == 400 and "&lt;b&gt;@x" in resp.get_data(as_text=True)  # user text is escaped
    good["file"] = (io.BytesIO(b"ann@example.org,A\nann@example.org,A\n"), "p.csv")
    resp = hr_client.post("/admin/surveys/acme/invitations/import", data=good, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Imported 1 invitation." in body and "1 duplicate skipped" in body
    assert db["invitations"].count == 1
    # No CSRF token, no import; no file, a clear 400.
    no_csrf = {"file": (io.BytesIO(b"zed@example.org,A\n"), "p.csv")}
    resp = hr_client.post("/admin/surveys/acme/invitations/import", data=no_csrf, content_type="multipart/form-data")
    assert resp.status_code == 400 and db["invitations"].count == 1
    resp = hr_client.post("/admin/surveys/acme/invitations/import", data={"csrf_token": token})
    assert resp.status_code == 400 and "Choose a CSV file" in resp.get_data(as_text=True)


def test_invitation_pages_are_for_hr_only(client, fac_client, db):
    assert client.get("/admin/surveys/acme/invitations").status_code == 302
    assert fac_client.get("/admin/surveys/acme/invitations").status_code == 403
    # A complete upload with a valid CSRF token, so that only the role check can refuse it.
    token = csrf_token(fac_client.get("/admin/surveys/acme").get_data(as_text=True))
    upload = {"csrf_token": token, "file": (io.BytesIO(b"zed@example.org,A\n"), "p.csv")}
    resp = fac_client.post("/admin/surveys/acme/invitations/import", data=upload, content_type="multipart/form-data")
    assert resp.status_code == 403
    assert db["invitations"].count == 0


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_are_random_hashed_and_at_least_128_bits(app, db):
    import_csv(app, "ann@example.org,A\nbob@example.org,B\n")
    for row in db.query("SELECT token_hash FROM invitations"):
        assert re.fullmatch(r"[0-9a-f]{64}", row["token_hash"])  # a SHA-256, nothing else
    issued = issue_links(app)
    assert all(link.startswith(f"{BASE_URL}/i/") for link in issued.values())
    tokens = [token_of(link) for link in issued.values()]
    assert len(set(tokens)) == 2
    stored = dump(db)
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        assert token not in stored  # only its hash is kept
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    with app.app_context():
        assert invitations.find_invitation(get_db(), tokens[0])["used"] == 0
        assert invitations.find_invitation(get_db(), tokens[0] + "x") is None


def test_a_reminder_link_and_the_first_link_both_work_until_one_is_used(app, client, db, instrument):
    import_csv(app, "ann@example.org,A\n")
    first = token_of(issue_links(app)["ann@example.org"])
    assert issue_links(app, "reminder") == {}  # no reminder on the day of the invitation
    backdate(db)
    second = token_of(issue_links(app, "reminder")["ann@example.org"])
    assert first != second
    assert client.get(f"/i/{first}").status_code == 303
    assert client.get(f"/i/{second}").status_code == 303
    body = {"invitation": second, "answers": answers_for(instrument)}
    assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    assert client.get(f"/i/{first}").status_code == 409  # one answer per invitation, whichever link


# --- the token-for-session exchange -----------------------------------------------------------


def test_the_redirect_drops_the_token(app, client, db, instrument):
    import_csv(app, "ann@example.org,B,nb\n")
    token = token_of(issue_links(app)["ann@example.org"])
    resp = client.get(f"/i/{token}")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/s/acme/invited?lang=nb"  # the invitation's language
    assert "no-store" in resp.headers["Cache-Control"]
    cookie = resp.headers["Set-Cookie"]
    assert token not in cookie
    page = client.get(resp.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and token not in body
    assert "Du svarer for avdelingen" in body and "Beta" in body
    resp = client.post("/s/acme/invited", data={**form_fields(instrument), "csrf_token": csrf_token(body)})
    assert resp.status_code == 200 and 'id="profile"' in resp.get_data(as_text=True)
    (row,) = db.query("SELECT * FROM responses")
    assert row["department_id"] == next(db.query("SELECT id FROM departments WHERE code = 'B'"))["id"]
    assert next(db.query("SELECT used FROM invitations"))["used"] == 1


def form_fields(instrument, value: str = "4") -> dict:
    return {f"q_{it.id}": value for it in instrument.items}


def test_a_form_posted_to_the_token_address_is_passed_on(app, client, instrument):
    import_csv(app, "ann@example.org,A\n")
    token = token_of(issue_links(app)["ann@example.org"])
    page = client.get(client.get(f"/i/{token}").headers["Location"]).get_data(as_text=True)
    resp = client.post(f"/i/{token}", data={**form_fields(instrument), "csrf_token": csrf_token(page)})
    assert resp.status_code == 307 and resp.headers["Location"] == "/s/acme/invited"


def test_invited_page_without_an_invitation_in_the_session(app, client):
    resp = client.get("/s/acme/invited")
    assert resp.status_code == 400 and "Open your invitation link" in resp.get_data(as_text=True)
    assert client.get("/s/nope/invited").status_code == 404
    # An invitation to one survey does not open another.
    with app.app_context():
        db = get_db()
        surveys.create_survey(
            db, app.extensions["instrument"], "Other", "en", [{"code": "X", "name": "X"}], slug="other"
        )
    import_csv(app, "ann@example.org,A\n")
    token = token_of(issue_links(app)["ann@example.org"])
    client.get(f"/i/{token}")
    assert client.get("/s/other/invited").status_code == 400


def test_closed_survey_and_used_invitation(app, client, instrument):
    import_csv(app, "ann@example.org,A\n")
    token = token_of(issue_links(app)["ann@example.org"])
    page = client.get(client.get(f"/i/{token}").headers["Location"]).get_data(as_text=True)
    with app.app_context():
        surveys.set_status(get_db(), surveys.get_survey(get_db(), "acme"), "closed")
    resp = client.post("/s/acme/invited", data={**form_fields(instrument), "csrf_token": csrf_token(page)})
    assert resp.status_code == 409 and "closed" in resp.get_data(as_text=True)
    assert "This survey is closed" in client.get(f"/i/{token}").get_data(as_text=True)


# --- single use under load ------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as the answer instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


def test_50_parallel_form_submissions_with_one_invitation(app, live_server, db, instrument):
    """Fifty browsers holding one invitation submit at once: exactly one answer is stored."""
    import_csv(app, "ann@example.org,A\n")
    token = token_of(issue_links(app)["ann@example.org"])
    posters = []
    forms = []
    for _ in range(50):
        jar = http.cookiejar.CookieJar()  # one browser: its own session
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with browser.open(f"{live_server}/i/{token}", timeout=30) as resp:  # follows the redirect
            assert resp.url == f"{live_server}/s/acme/invited"
            page = resp.read().decode()
        posters.append(urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect()))
        forms.append(urllib.parse.urlencode({**form_fields(instrument), "csrf_token": csrf_token(page)}).encode())
    start = threading.Barrier(50)

    def submit(n: int) -> int:
        start.wait()
        try:
            with posters[n].open(f"{live_server}/s/acme/invited", data=forms[n], timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(submit, range(50)))
    assert sorted(statuses) == [200] + [409] * 49
    assert db["responses"].count == 1
    assert db["answers"].count == len(instrument.items)


def test_50_parallel_api_submissions_with_one_invitation(app, live_server, db, instrument):
    import_csv(app, "ann@example.org,A\n")
    token = token_of(issue_links(app)["ann@example.org"])
    body = json.dumps({"invitation": token, "answers": answers_for(instrument)}).encode()
    start = threading.Barrier(50)

    def submit(_: int) -> int:
        req = urllib.request.Request(
            f"{live_server}/api/v1/surveys/acme/responses", data=body, headers={"Content-Type": "application/json"}
        )
        start.wait()
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(submit, range(50)))
    assert sorted(statuses) == [201] + [409] * 49
    assert db["responses"].count == 1


# --- anonymity by construction ----------------------------------------------------------------

IDENTIFYING = re.compile(r"token|email|mail|user|name|ip|addr|host|agent|invit|time|_at$|created|session|cookie")


def test_responses_table_has_no_column_that_could_identify_a_person(db):
    columns = db["responses"].columns_dict
    assert set(columns) == {"id", "survey_id", "department_id", "submitted_on", "enps", "comment"}
    assert not [c for c in columns if IDENTIFYING.search(c)]
    assert set(db["answers"].columns_dict) == {"response_id", "item", "value"}
    # The answer to the follow-up statement is kept apart from the instrument's answers, and holds no more.
    assert set(db["followup_answers"].columns_dict) == {"response_id", "value"}
    # Nothing else points at a response, and a response points only at its survey and department.
    referencing = {
        table
        for table in db.table_names()
        for fk in db.execute(f"PRAGMA foreign_key_list([{table}])").fetchall()
        if fk[2] == "responses"
    }
    assert referencing == {"answers", "followup_answers"}
    targets = {fk[2] for fk in db.execute("PRAGMA foreign_key_list(responses)").fetchall()}
    assert targets == {"surveys", "departments"}
    # No trigger could copy anything from an invitation to a response, or back: the audit trail's
    # keep it append-only (all they can do is refuse), the form version's count changes to surveys,
    # departments and actions (all they can do is add one to a number).
    triggers = db.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert {table for table, _ in triggers} <= {"audit_log", "audit_gate", "surveys", "departments", "actions"}
    for table, sql in triggers:
        if table in ("audit_log", "audit_gate"):
            assert re.search(r"\bBEGIN SELECT RAISE\(ABORT, '[^']*'\); END$", sql), sql
        else:
            assert re.search(r"\s+BEGIN UPDATE form_version SET version = version \+ 1; END$", sql), sql
    assert not any("response" in c for c in db["invitations"].columns_dict)
    assert not any("response" in c for c in db["invitation_links"].columns_dict)


def test_a_response_stores_only_department_date_and_answers(app, client, db, instrument):
    import_csv(app, "ann@example.org,A\n")
    token = token_of(issue_links(app)["ann@example.org"])
    body = {"invitation": token, "answers": answers_for(instrument), "enps": 8}
    resp = client.post("/api/v1/surveys/acme/responses", json=body, headers={"User-Agent": "Agent/1.0"})
    assert resp.status_code == 201
    (row,) = db.query("SELECT * FROM responses")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["submitted_on"])  # a date, never a time
    assert not any(secret in str(row) for secret in ("ann@example.org", token, "Agent/1.0", "127.0.0.1"))
    stored = dump(db)
    assert "Agent/1.0" not in stored and "127.0.0.1" not in stored  # nowhere at all


def test_response_ids_are_random(app, db):
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        dept = surveys.department_by_code(get_db(), survey, "A")
        ids = []  # in the order they were stored
        for _ in range(30):
            before = {r[0] for r in db.execute("SELECT id FROM responses")}
            save_response(get_db(), survey, Submission(dept.id, {"obs1": 4}, None, None))
            (new,) = {r[0] for r in db.execute("SELECT id FROM responses")} - before
            ids.append(new)
    assert len(set(ids)) == 30 and all(0 < i < 2**63 for i in ids)
    assert max(ids) > 2**40  # not a counter
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)


def test_a_colliding_random_id_is_drawn_again(app, db, monkeypatch):
    draws = iter([12345, 12345, 777])
    monkeypatch.setattr(responses, "new_response_id", lambda: next(draws))
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        dept = surveys.department_by_code(get_db(), survey, "A")
        save_response(get_db(), survey, Submission(dept.id, {"obs1": 4}, None, None))
        save_response(get_db(), survey, Submission(dept.id, {"obs1": 5}, None, None))
    assert sorted(r[0] for r in db.execute("SELECT id FROM responses")) == [777, 12345]
    assert db["answers"].count == 2


def test_stored_order_does_not_follow_the_order_of_invitations(app, client, db, instrument):
    """Invitations used one after another leave responses whose stored order says nothing about it."""
    people = [f"p{n:02d}@example.org" for n in range(24)]
    import_csv(app, "".join(f"{p},A\n" for p in people))
    issued = issue_links(app)
    for n, person in enumerate(people):  # in the order of the invitations; the answers tell who is who
        body = {"invitation": token_of(issued[person]), "answers": {"obs1": 1 + n % 5, "obs2": 1 + n // 5}}
        assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    position = {(1 + n % 5, 1 + n // 5): n for n in range(len(people))}
    rows = db.execute(
        """SELECT r.id, a1.value, a2.value FROM responses r
           JOIN answers a1 ON a1.response_id = r.id AND a1.item = 0
           JOIN answers a2 ON a2.response_id = r.id AND a2.item = 1"""
    ).fetchall()
    by_id = [position[(v1, v2)] for _, v1, v2 in sorted(rows)]  # the table's storage order
    assert sorted(by_id) == list(range(len(people)))
    assert by_id != list(range(len(people))) and by_id != list(reversed(range(len(people))))
    # Rank correlation between submission order and stored order is weak (random: about 0 ± 0.2).
    n = len(by_id)
    rho = 1 - 6 * sum((rank - i) ** 2 for i, rank in enumerate(by_id)) / (n * (n**2 - 1))
    assert abs(rho) < 0.9


def test_parser_is_pure(instrument):
    depts = [surveys.Department(1, "A", "Alpha", None)]
    report = csv_import.parse("a@example.org,A\n", depts, {"a@example.org": 1})
    assert report.ok and report.rows == [] and report.duplicates
