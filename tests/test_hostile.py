"""Hostile input: the JSON API fuzzed from its OpenAPI document, arbitrary submissions, forms without CSRF.

(a) schemathesis generates valid and invalid requests for every operation of
    /api/v1/openapi.json (with an HR token): no 5xx, and every 4xx is JSON with an "error".
(b) hypothesis sends arbitrary JSON, answer maps and bytes to POST /api/v1/surveys/acme/responses:
    no 5xx, 4xx are JSON with an "error", and nothing is stored unless the answer is 201.
(c) every form POST outside /api/ refuses a missing, wrong or expired CSRF token with 400
    and changes nothing; the respondent's form keeps the answers when its token expired.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from flask import Flask, url_for
from flask.testing import FlaskClient
from helpers import HR_EMAIL, HR_PASSWORD, csrf_token, login, new_survey_form
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from survey import accounts, create_app, invitations, responses, surveys
from survey.api.openapi import OPERATIONS
from survey.config import DEFAULTS
from survey.db import NOT_APPLICABLE, get_db
from survey.questionnaire import load_instrument
from survey.schemas import GENERIC

DEPARTMENTS = [{"code": "A", "name": "Alpha", "headcount": 20}, {"code": "B", "name": "Beta", "headcount": None}]


def build_app(folder: Path) -> Flask:
    """Return an app as in production (exceptions become 500s) with survey 'acme', an HR token and invitations."""
    app = create_app(
        {
            "DATABASE": str(folder / "hostile.sqlite"),
            "SECRET_KEY": "hostile-secret",
            "REPORTS_DIR": str(folder / "reports"),
            "BASE_URL": "https://survey.example.org",
            # Wrong invitation tokens are the point here: throttling them would hide the validation.
            "TOKEN_GUESS_LIMIT": 10**9,
            "SELF_ASSESSMENT_LIMIT": 10**9,
        }
    )
    with app.app_context():
        db = get_db()
        survey = surveys.create_survey(
            db, app.extensions["instrument"], title="Acme", language="en", departments=DEPARTMENTS, slug="acme"
        )
        app.config["HR_TOKEN"] = accounts.create_token(db, "hr")
        dept = surveys.department_by_code(db, survey, "A")
        app.config["INVITATIONS"] = invitations.create_invitations(db, survey, dept, 20)
    return app


def add_responses(app: Flask, slug: str, per_department: int) -> None:
    """Store answered responses in every department of a survey, so that results have figures to compute."""
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, slug)
        items = [item.id for item in survey.instrument.items]
        for n in range(per_department * len(DEPARTMENTS)):
            dept = surveys.department_by_code(db, survey, DEPARTMENTS[n % len(DEPARTMENTS)]["code"])
            answers = {item: (n + i) % 5 + 1 for i, item in enumerate(items)}
            responses.save_response(db, survey, responses.Submission(dept.id, answers, n % 11, None))


# --- (a) schemathesis against the OpenAPI document -----------------------------------------------


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory) -> Flask:
    """Return the app the generated requests go to: results with figures, and a survey too small for a report."""
    app = build_app(tmp_path_factory.mktemp("fuzz"))
    add_responses(app, "acme", 6)  # results and comparisons with figures, not only "suppressed"
    with app.app_context():
        # Too few responses for a report: the PDF operation answers 409 at once instead of drawing charts.
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Tiny", language="nb", departments=DEPARTMENTS, slug="tiny"
        )
    return app


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Flask):
    """Load the OpenAPI document the app serves."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


def error_is_json(ctx, response, case) -> bool | None:
    """Every 4xx answer is a JSON object with a non-empty "error" message."""
    if 400 <= response.status_code < 500:
        headers = {name.lower(): values for name, values in response.headers.items()}
        content_type = (headers.get("content-type") or [""])[0]
        assert content_type.startswith("application/json"), f"{response.status_code} with {content_type!r}"
        body = json.loads(response.content)
        assert isinstance(body, dict), body
        assert isinstance(body.get("error"), str) and body["error"].strip(), body
        assert_own_words(body)
    return None


PYDANTIC_WORDING = ("Input should", "Field required", "Extra inputs", "String should", "List should", "Value error")


def assert_own_words(body: dict) -> None:
    """Every message is one of the app's own, never the validator's wording nor the catch-all."""
    for message in [body["error"], *(body.get("fields") or {}).values()]:
        assert message != GENERIC and not message.startswith(PYDANTIC_WORDING), body


def aim_at_acme(case) -> None:
    """Point a generated request at survey 'acme' (or 'tiny' for the PDF) and a valid response at its items."""
    if case.path_parameters and "slug" in case.path_parameters:
        case.path_parameters["slug"] = "tiny" if case.operation.path.endswith("report.pdf") else "acme"
    if case.operation.path.endswith("/responses") and case.meta.generation.mode.is_positive:
        # Random department codes and item ids never exist: use real ones, keep the generated values.
        case.body.pop("invitation", None)
        case.body["department"] = "A"
        values = list(case.body["answers"].values())[: len(ITEM_IDS)]
        case.body["answers"] = dict(zip(ITEM_IDS, values, strict=False))
    if case.operation.path.endswith("/self-assessment") and case.meta.generation.mode.is_positive:
        values = list(case.body["answers"].values())[: len(ITEM_IDS)]
        case.body["answers"] = dict(zip(ITEM_IDS, values, strict=False))


# One test per operation of the document; the operations are named by the API's own table, so
# that no app is built when the module is imported. (schemathesis.pytest.from_fixture would do
# this, but fails under pytest 9.2: it reads the removed Function._nodeid.)
OPERATION_IDS = [op.endpoint.removeprefix("api.") for op in OPERATIONS if op.endpoint != "api.openapi_document"]


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_api_never_fails_on_generated_requests(api_schema, fuzz_app, operation_id):
    """Every operation, fed schemathesis' valid and invalid requests: no 5xx, JSON errors, answers as documented.

    The document is generated from the models the API validates with, so this also checks that
    it describes the real behaviour: every status and body as documented, and requests the
    document calls invalid refused.
    """
    operation = api_schema.find_operation_by_id(operation_id)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    token = fuzz_app.config["HR_TOKEN"]

    @given(case=cases, on_acme=st.booleans())
    @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case, on_acme):
        # Half the cases address what exists, so that more than the 404 and 422 paths are exercised.
        if on_acme:
            aim_at_acme(case)
        headers = {} if "Authorization" in (case.headers or {}) else {"Authorization": f"Bearer {token}"}
        case.call_and_validate(
            headers=headers,
            checks=[
                not_a_server_error,
                error_is_json,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
                negative_data_rejection,
            ],
        )

    run()


# --- (b) hypothesis against POST /api/v1/surveys/acme/responses ------------------------------------


@pytest.fixture(scope="module")
def api_app(tmp_path_factory) -> Flask:
    """Return a production-like app of its own, so that the fuzzing above does not change its counts."""
    return build_app(tmp_path_factory.mktemp("api"))


def count_responses(app: Flask) -> int:
    """Return the number of stored responses."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    finally:
        conn.close()


def post_response(app: Flask, body: bytes, content_type: str = "application/json"):
    """POST a raw body to the acme survey's responses and check the error contract; return the response."""
    before = count_responses(app)
    response = app.test_client().post("/api/v1/surveys/acme/responses", data=body, content_type=content_type)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        payload = response.get_json(silent=True)
        assert response.mimetype == "application/json", response.get_data(as_text=True)
        assert isinstance(payload, dict) and isinstance(payload.get("error"), str) and payload["error"], payload
        assert_own_words(payload)
    after = count_responses(app)
    assert after == before + (1 if response.status_code == 201 else 0), (response.status_code, before, after)
    return response


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(body=json_values)
def test_arbitrary_json_is_refused_cleanly(api_app, body):
    """Any JSON value as the body: never a 5xx, errors in JSON, stored only with 201."""
    post_response(api_app, json.dumps(body).encode("utf-8"))


@FAST
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_arbitrary_bytes_are_refused_cleanly(api_app, body, content_type):
    """Random bytes, under any content type: never a 5xx, errors in JSON, stored only with 201."""
    post_response(api_app, body, content_type)


# The strategies need the item ids when the module is imported: read them from the instrument file, no app.
ITEM_IDS = [item.id for item in load_instrument(DEFAULTS["QUESTIONS"]).items]
valid_submissions = st.fixed_dictionaries(
    {
        "department": st.sampled_from(["A", "B"]),
        "answers": st.dictionaries(st.sampled_from(ITEM_IDS), st.integers(1, 5) | st.none(), max_size=len(ITEM_IDS)),
    },
    optional={"enps": st.none() | st.integers(0, 10), "comment": st.none() | st.text(max_size=60)},
)
# A valid submission with one or two fields replaced by anything (out-of-range numbers, booleans,
# unknown items, nested values) or added (an invitation next to a department, unknown fields).
bad_values = st.dictionaries(
    st.sampled_from(["department", "invitation", "answers", "enps", "comment", "extra"]),
    st.integers(-3, 13)
    | json_values
    | st.dictionaries(st.sampled_from(ITEM_IDS) | st.text(max_size=8), st.integers(-2, 7) | json_values, max_size=6),
    min_size=1,
    max_size=2,
)
submissions = valid_submissions | st.builds(lambda good, bad: {**good, **bad}, valid_submissions, bad_values)


def stored_response(app: Flask, response_ids: set[int]) -> tuple[int, dict]:
    """Return the one response not among response_ids, with its answers by item id."""
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    try:
        rows = [r for r in conn.execute("SELECT * FROM responses") if r["id"] not in response_ids]
        assert len(rows) == 1, len(rows)
        answers = dict(
            conn.execute(
                """SELECT i.item_id, a.value FROM answers a JOIN survey_items i
                   ON i.survey_id = ? AND i.position = a.item WHERE a.response_id = ?""",
                [rows[0]["survey_id"], rows[0]["id"]],
            ).fetchall()
        )
        return dict(rows[0]), answers
    finally:
        conn.close()


def response_ids(app: Flask) -> set[int]:
    """Return the ids of every stored response."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return {row[0] for row in conn.execute("SELECT id FROM responses")}
    finally:
        conn.close()


@FAST
@given(data=submissions)
def test_arbitrary_submissions_store_exactly_what_was_accepted(api_app, data):
    """Submissions with any mix of good and bad fields: 201 stores exactly the valid answers, anything else nothing."""
    before = response_ids(api_app)
    response = post_response(api_app, json.dumps(data).encode("utf-8"))
    event(f"status {response.status_code}")  # --hypothesis-show-statistics shows how many were stored
    if response.status_code != 201:
        return
    row, answers = stored_response(api_app, before)
    # null is "not applicable", stored as such; a value is stored as given.
    assert answers == {k: NOT_APPLICABLE if v is None else v for k, v in data["answers"].items()}
    assert row["enps"] == data.get("enps")
    comment = data.get("comment")
    assert row["comment"] == ((comment.strip() or None) if isinstance(comment, str) else None)


def test_a_valid_invitation_is_accepted_once(api_app):
    """The invitation path through the same checks: 201 once, 409 after."""
    token = api_app.config["INVITATIONS"][0]
    body = json.dumps({"invitation": token, "answers": {ITEM_IDS[0]: 5}}).encode()
    assert post_response(api_app, body).status_code == 201
    assert post_response(api_app, body).status_code == 409


# Inputs that once gave a 500 (found by the fuzzing above), pinned one each.


def item_answer_json(extra: str) -> bytes:
    """Return a valid submission's JSON text with `extra` spliced in as further members."""
    return f'{{"department": "A", "answers": {{"{ITEM_IDS[0]}": 3}}, {extra}}}'.encode()


def test_a_number_too_long_to_parse_is_a_400(api_app):
    """A 5000-digit number is malformed input, not a server error."""
    response = post_response(api_app, item_answer_json('"enps": ' + "1" * 5000))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        item_answer_json('"comment": "\\ud800"'),
        json.dumps({"invitation": "\udfff", "answers": {ITEM_IDS[0]: 3}}).encode(),
    ],
    ids=["comment", "invitation"],
)
def test_a_lone_surrogate_in_a_submission_is_a_4xx(api_app, body):
    """JSON may escape a lone surrogate, which no UTF-8 text can hold: a 4xx, nothing stored."""
    assert 400 <= post_response(api_app, body).status_code < 500


def test_a_nul_character_in_the_form_comment_is_a_400(app, client, db):
    """The respondent form's own checks let a NUL through; the domain check refuses it on the form, not with a 500."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = {f"q_{item.id}": "3" for item in app.extensions["instrument"].items}
    data.update(department="A", comment="before\x00after", csrf_token=csrf_token(page))
    response = client.post("/s/acme", data=data)
    assert response.status_code == 400
    assert "The comment contains a NUL character; remove it." in response.get_data(as_text=True)
    assert db["responses"].count == 0


def create_survey_via_api(app: Flask, body: str):
    """POST a raw body to /api/v1/surveys with the HR token."""
    return app.test_client().post(
        "/api/v1/surveys",
        data=body.encode(),
        content_type="application/json",
        headers={"Authorization": f"Bearer {app.config['HR_TOKEN']}"},
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"title": "T", "min_group_size": 1%s, "departments": [{"code": "A", "name": "A"}]}' % ("0" * 22),
        '{"title": "T", "comment_min_group_size": 1%s, "departments": [{"code": "A", "name": "A"}]}' % ("0" * 22),
        '{"title": "T", "departments": [{"code": "A", "name": "A", "headcount": 1%s}]}' % ("0" * 22),
    ],
    ids=["min_group_size", "comment_min_group_size", "headcount"],
)
def test_create_survey_with_a_huge_number_is_a_422(api_app, body):
    """A number beyond any sensible size is an invalid value (422), not a server error."""
    assert create_survey_via_api(api_app, body).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        '{"title": "T\\ud800", "departments": [{"code": "A", "name": "A"}]}',
        '{"title": "T", "departments": [{"code": "A", "name": "A\\udfff"}]}',
        '{"title": "T", "slug": "\\ud800", "departments": [{"code": "A", "name": "A"}]}',
    ],
    ids=["title", "department-name", "slug"],
)
def test_create_survey_with_a_lone_surrogate_is_a_4xx(api_app, body):
    """A string no UTF-8 text can hold is refused with a 4xx."""
    assert 400 <= create_survey_via_api(api_app, body).status_code < 500


# --- (c) CSRF on every form --------------------------------------------------------------------------


def db_dump(app: Flask) -> list[str]:
    """Return the whole database as SQL text, to prove that a refused request changed nothing."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def form_routes(app: Flask) -> list[str]:
    """Return the endpoints of every POST route outside the JSON API."""
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith("/api/")
        }
    )


def answers(app: Flask) -> dict[str, str]:
    """Return form fields answering every item and the optional questions."""
    data = {f"q_{item.id}": "4" for item in app.extensions["instrument"].items}
    data.update({"enps": "7", "comment": "kept?"})
    return data


def form_for(app: Flask, endpoint: str) -> dict:
    """Return a complete, valid submission of the form behind `endpoint`, all but its CSRF token."""
    forms: dict[str, Callable[[], dict]] = {
        "admin.login": lambda: {"email": HR_EMAIL, "password": HR_PASSWORD},
        "admin.create": lambda: {
            "title": "Sneaky survey",
            "language": "en",
            "departments": "X, Xray, 12",
            "min_group_size": "5",
            "comment_min_group_size": "10",
            "small_groups": "merge",
            "previous": "",
        },
        "admin.set_status": lambda: {"status": "closed"},
        "admin.edit_departments": lambda: {"departments": "A, Alpha, 20\nB, Beta, 8\nC, Gamma"},
        "admin.next_round": lambda: {"title": "Sneaky next round"},
        "admin.create_invitations": lambda: {"department": "A", "count": "3"},
        "admin.import_invitations": lambda: {"file": (io.BytesIO(b"x@example.org,A\n"), "list.csv")},
        "admin.send_mail": lambda: {"kind": "invitation"},
        "admin.export_links": lambda: {"kind": "invitation"},
        "admin.action_create": lambda: {"level": "owning", "theme": "roles", "title": "Sneaky action"},
        "admin.action_update": lambda: {"level": "owning", "theme": "roles", "title": "Renamed", "status": "done"},
        "admin.action_note": lambda: {"note": "A sneaky note", "status": "done"},
        "admin.action_delete": dict,
        "admin.poll_new": lambda: {"title": "Sneaky poll", "language": "en", "linked": "", "min_group_size": "5"},
        "admin.poll_close": dict,
        "respond.poll_answer": lambda: {"q_obs1": "4"},
        "admin.revoke_token": dict,
        "admin.delete_survey": lambda: {"confirm": "acme"},
        "respond.open_link": lambda: {**answers(app), "department": "A"},
        "respond.invitation": lambda: answers(app),
        "respond.invited": lambda: answers(app),
        "respond.self_assessment": lambda: answers(app),
    }
    return forms.get(endpoint, dict)()


def expired_token(client: FlaskClient, app: Flask) -> str:
    """Return a CSRF token for this client's session, signed longer ago than WTF_CSRF_TIME_LIMIT."""
    age = int(app.config["WTF_CSRF_TIME_LIMIT"]) + 60

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    with client.session_transaction() as session:
        raw = session["csrf_token"]
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=LongAgo).dumps(raw)


def new_invitation(app: Flask) -> str:
    """Create one personal invitation to survey 'acme' and return its token."""
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        return invitations.create_invitations(db, survey, surveys.department_by_code(db, survey, "A"), 1)[0]


def prepared_client(app: Flask, endpoint: str, invitation: str) -> tuple[FlaskClient, str]:
    """Return a client in the state a real user would post this form from (logged in, invitation held).

    Also return the valid CSRF token of a page it just opened, for the control case.
    """
    client = app.test_client()
    if endpoint.startswith("admin.") and endpoint != "admin.login":
        assert login(client).status_code == 302
    if endpoint == "respond.invited":
        assert client.get(f"/i/{invitation}").status_code == 303  # puts the invitation in the session
    page = client.get("/admin/login" if endpoint.startswith("admin.") else "/s/acme")
    return client, csrf_token(page.get_data(as_text=True))


@pytest.mark.parametrize("token", ["missing", "wrong", "expired", "valid"])
def test_every_form_post_refuses_a_bad_csrf_token(app, token):
    """Each form POST outside /api/ with a missing, wrong or expired token: 400, and nothing changes.

    The "valid" case is the control: the same posts with the page's token are not refused, so
    the 400s above come from the token alone.
    """
    endpoints = form_routes(app)
    assert {"admin.login", "admin.logout", "admin.create", "respond.open_link"} <= set(endpoints)
    assert {"admin.revoke_token", "admin.delete_survey"} <= set(endpoints)
    refused = {}
    # Closing the survey, then deleting it, go last: in the control case they would end the respondent forms.
    last = ("admin.set_status", "admin.delete_survey")
    for endpoint in sorted(endpoints, key=lambda name: last.index(name) + 1 if name in last else 0):
        rule = next(r for r in app.url_map.iter_rules(endpoint) if "POST" in r.methods)
        invitation = new_invitation(app)  # unused, whatever the previous endpoint did with its own
        values = {"slug": "acme", "token": invitation, "token_id": 1, "action_id": 1, "code": "ACDEFG"}
        with app.test_request_context():
            path = url_for(endpoint, **{name: values.get(name, "x") for name in rule.arguments})
        client, valid_token = prepared_client(app, endpoint, invitation)
        data = form_for(app, endpoint)
        if token == "valid":
            response = client.post(path, data={**data, "csrf_token": valid_token}, follow_redirects=True)
            refused[endpoint] = response.status_code
            continue
        if token == "wrong":
            data["csrf_token"] = "ImZvcmdlZCI.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"
        elif token == "expired":
            data["csrf_token"] = expired_token(client, app)
        before = db_dump(app)
        # /i/<token> hands the posted form on to /s/<slug>/invited with a 307; the refusal comes there.
        response = client.post(path, data=data, follow_redirects=endpoint == "respond.invitation")
        refused[endpoint] = response.status_code
        assert db_dump(app) == before, f"{endpoint} changed the database with a {token} CSRF token"
        if endpoint == "admin.logout":
            assert client.get("/admin/").status_code == 200, "logout without a valid token logged the user out"
        if endpoint == "admin.login":
            assert client.get("/admin/").status_code == 302, "login without a valid token logged the user in"
    if token == "valid":
        assert all(status != 400 for status in refused.values()), refused
    else:
        assert refused == dict.fromkeys(endpoints, 400)


def test_expired_token_on_the_respondent_form_keeps_the_answers(app, client, db, instrument):
    """A form open past WTF_CSRF_TIME_LIMIT: 400 asking to submit again, every answer kept, then stored."""
    client.get("/s/acme")
    data = {f"q_{item.id}": str(index % 5 + 1) for index, item in enumerate(instrument.items)}
    data.update({"department": "B", "enps": "9", "comment": "Written over a long lunch", "q_obs2": "na"})
    data["csrf_token"] = expired_token(client, app)
    response = client.post("/s/acme", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "security key expired. Your answers are kept: please submit again." in page
    for item in instrument.items:
        value = data[f"q_{item.id}"]
        assert f'id="q_{item.id}_{value}" name="q_{item.id}" value="{value}" checked' in page, item.id
    assert 'id="enps_9" name="enps" value="9" checked' in page
    assert "Written over a long lunch</textarea>" in page
    assert '<option selected value="B">' in page or 'value="B" selected' in page
    assert db["responses"].count == 0
    # The page carries a fresh token: submitting again stores the answers.
    data["csrf_token"] = csrf_token(page)
    assert client.post("/s/acme", data=data).status_code == 200
    assert db["responses"].count == 1


def test_new_survey_form_with_a_huge_headcount_is_a_400(hr_client, db):
    """The HR form refuses a headcount beyond SQLite's integers with a message, not a 500."""
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    data = new_survey_form(page, title="Huge", departments="A, Alpha, 99999999999999999999999")
    response = hr_client.post("/admin/surveys/new", data=data)
    assert response.status_code == 400
    assert db["surveys"].count == 1


def test_forms_render_their_errors_with_csrf_switched_off(make_app):
    """With CSRF switched off (as some test set-ups do), a wrong password is still a 401, never a 500."""
    client = make_app(WTF_CSRF_ENABLED=False).test_client()
    response = client.post("/admin/login", data={"email": "nobody@example.org", "password": "wrong password here"})
    assert response.status_code == 401 and "The e-mail or password is wrong." in response.get_data(as_text=True)
