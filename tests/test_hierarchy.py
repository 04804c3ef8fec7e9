"""Units within units: input and storage, results and comparisons across levels, exports, the PDF at 500 units."""

from __future__ import annotations

import csv
import io
import re

import pytest
from helpers import CHROMIUM, csrf_token, log_in_as_hr, new_survey_form
from pypdf import PdfReader

from survey import export, invitations, privacy, rates, report, results, surveys
from survey.admin.forms import parse_departments
from survey.db import connect, get_db, migrate, migrations
from survey.responses import Submission, save_response

NESTED = [
    {"code": "OPS", "name": "Operations"},
    {"code": "N", "name": "North", "parent": "OPS", "headcount": 9},
    {"code": "S", "name": "South", "parent": "OPS"},
    {"code": "S1", "name": "South team 1", "parent": "S"},
    {"code": "S2", "name": "South team 2", "parent": "S"},
    {"code": "HR", "name": "People"},
]
# People who answered for each unit (S for South itself, OPS nobody): South is 6 + 2 + 3 = 11.
ANSWERS = {"N": 6, "S": 3, "S1": 6, "S2": 2, "HR": 8}


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def count(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def make_tree(app, slug: str = "tree", departments: list[dict] | None = None, answers: dict | None = None) -> None:
    """Create a survey of nested units, store answers for them (value 4, leading ones 2) and close it."""
    with app.app_context():
        db = get_db()
        inst = app.extensions["instrument"]
        survey = surveys.create_survey(
            db, inst, title=f"Tree {slug}", language="en", departments=departments or NESTED, slug=slug
        )
        for code, n in (answers or ANSWERS).items():
            dept = surveys.department_by_code(db, survey, code)
            for i in range(n):
                given = {it.id: 4 if it.level != "leading" else 2 + i % 3 for it in inst.items}
                save_response(db, survey, Submission(dept.id, given, 8, None))
        surveys.close(db, survey)


def get(client, token: str, path: str):
    resp = client.get(path, headers=auth(token))
    assert resp.status_code == 200, resp.json
    return resp.json


# --- input and storage --------------------------------------------------------------------------


def test_units_are_stored_with_their_parents(client, hr_token, app):
    body = {"title": "Tree", "slug": "tree", "language": "en", "departments": NESTED}
    resp = client.post("/api/v1/surveys", json=body, headers=auth(hr_token))
    assert resp.status_code == 201, resp.json
    assert [d.get("parent") for d in resp.json["departments"]] == [None, "OPS", "OPS", "S", "S", None]
    with app.app_context():
        depts = surveys.departments(get_db(), surveys.get_survey(get_db(), "tree"))
    assert [(d.code, d.parent) for d in depts] == [(d["code"], d.get("parent")) for d in NESTED]
    assert surveys.subtree_codes(depts, "S") == ["S", "S1", "S2"]
    assert surveys.unit_paths(depts)["S2"] == ["OPS", "S", "S2"]
    assert [d.code for d in surveys.tree_order(list(reversed(depts)))] == ["HR", "OPS", "S", "S2", "S1", "N"]


@pytest.mark.parametrize(
    ("departments", "message"),
    [
        ([{"code": "A", "name": "x", "parent": "B"}], "Department 1: the parent 'B' is not one of the departments."),
        ([{"code": "A", "name": "x", "parent": "a"}], "Department 1: 'A' cannot be its own parent."),
        (
            [{"code": "A", "name": "x", "parent": "B"}, {"code": "B", "name": "y", "parent": "A"}],
            "Department 1: the parents of 'A' go round in a circle (A → B → A).",
        ),
        (
            [
                {"code": "R", "name": "root"},
                {"code": "A", "name": "x", "parent": "C"},
                {"code": "B", "name": "y", "parent": "A"},
                {"code": "C", "name": "z", "parent": "B"},
            ],
            "Department 2: the parents of 'A' go round in a circle (A → C → B → A).",
        ),
        ([{"code": "A", "name": "x"}, {"code": "a", "name": "y", "parent": "A"}], "Department 2: the code 'a'"),
        ([{"code": "A", "name": "Sales"}, {"code": "B", "name": "SALES ", "parent": "A"}], "the name 'SALES'"),
        ([{"code": "A", "name": "x", "parent": "not a code"}], "Department 1: the parent must be the code"),
    ],
)
def test_bad_hierarchies_are_refused_naming_the_unit(client, db, hr_token, departments, message):
    before = count(db, "surveys"), count(db, "departments")
    body = {"title": "Bad", "language": "en", "departments": departments}
    resp = client.post("/api/v1/surveys", json=body, headers=auth(hr_token))
    assert resp.status_code == 422
    assert message in resp.json["fields"]["departments"]
    assert (count(db, "surveys"), count(db, "departments")) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OPS, Drift, 40\nIT, IT", [("OPS", "Drift", 40, None), ("IT", "IT", None, None)]),
        (  # Norwegian Excel: semicolons, a header line, empty cells, a comma inside a name
            "kode;navn;antall;overordnet\nDIV;Divisjon, nord;;\nT1;Team 1;12;DIV\n",
            [("DIV", "Divisjon, nord", None, None), ("T1", "Team 1", 12, "DIV")],
        ),
        (  # quotes: a comma and a doubled quote inside names
            'A, "Sales, north", 10\nB, "The ""B"" team", , A\n',
            [("A", "Sales, north", 10, None), ("B", 'The "B" team', None, "A")],
        ),
        ("A\tAlpha\t\t\nB\tBeta\t3\tA", [("A", "Alpha", None, None), ("B", "Beta", 3, "A")]),  # pasted cells
        (  # a header in another order, padding cells, comments and blank lines
            "Parent,Code,Name,Headcount,,\n\n# units\n,A,Alpha,1 200,,\nA,B,Beta,,,\n",
            [("A", "Alpha", 1200, None), ("B", "Beta", None, "A")],
        ),
    ],
)
def test_department_box_reads_csv(text, expected):
    got = parse_departments(text)
    assert [(d["code"], d["name"], d["headcount"], d.get("parent")) for d in got] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OPS", "Line 1: write 'CODE, Name'"),
        ("# header\nA, Alpha\nB; Beta; x", "Line 3: write 'CODE, Name'"),  # the first line fixed the separator
        ("A, Alpha\nB, Beta, many", "Line 2: the headcount 'many' must be a whole number."),
        ("A, Alpha\n\nB, Beta, 1, Q", "Line 3: the parent 'Q' is not one of the departments."),
        ("A, Alpha, , A", "Line 1: 'A' cannot be its own parent."),
        ("A, Alpha, , B\nB, Beta, , A", "Line 1: the parents of 'A' go round in a circle (A → B → A)."),
        ("A, Alpha\nB, Beta\na, Gamma", "Line 3: the code 'a' is used twice."),
        ("A; Alpha\nB; alpha", "Line 2: the name 'alpha' is used twice"),
        ('A, "Alpha', "Line 1: a quoted value is not closed"),
        ("A, Alpha, 1, B, 7", "Line 1: 5 values where at most 4 fit"),
        ("A b, Alpha", "Line 1: the code must be 1-32 letters"),
        ("code;name\nA;" + "x" * 121, "Line 2: give a name of 1-120 characters."),
    ],
)
def test_department_box_errors_name_the_line(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_departments(text)


def test_the_hr_form_takes_a_parent_column_and_refuses_a_circle(hr_client, db):
    def post(departments: str):
        page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
        data = new_survey_form(page, title="Nested", departments=departments)
        return hr_client.post("/admin/surveys/new", data=data)

    before = count(db, "surveys")
    resp = post("code;name;headcount;parent\nA;Alpha;;B\nB;Beta;;A\n")
    assert resp.status_code == 400
    assert "Line 2: the parents of &#39;A&#39; go round in a circle" in resp.get_data(as_text=True)
    assert count(db, "surveys") == before
    resp = post('code;name;headcount;parent\nDIV;"Division; north";;\nT1;Team 1;12;DIV\n')
    assert resp.status_code == 302
    rows = db.execute(
        "SELECT d.code, d.name, p.code FROM departments d LEFT JOIN departments p ON p.id = d.parent_id "
        "JOIN surveys s ON s.id = d.survey_id WHERE s.slug = 'nested' ORDER BY d.position"
    ).fetchall()
    assert rows == [("DIV", "Division; north", None), ("T1", "Team 1", "DIV")]


def test_respondents_pick_their_unit_grouped_by_top_level_unit(app, client, db):
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Pick", language="en", departments=NESTED, slug="pick"
        )
    page = client.get("/s/pick?d=S1").get_data(as_text=True)
    select = page[page.index("<select") : page.index("</select>")]
    assert '<optgroup label="Operations">' in select and "</optgroup>" in select
    assert '<option value="OPS">Operations</option>' in select  # the unit itself, for its own people
    assert '<option selected value="S1">South › South team 1</option>' in select
    assert select.index('value="HR"') > select.index("</optgroup>")  # a unit without sub-units: no group
    # Someone who belongs to South itself (not to one of its teams) answers for South.
    resp = client.post(
        "/s/pick",
        data={
            "csrf_token": csrf_token(page),
            "department": "S",
            "q_obs1": "4",
            "form_key": "0" * 32,
            "confirm_few": "1",
        },
    )
    assert resp.status_code == 200 and "Thank you" in resp.get_data(as_text=True)  # the profile page
    stored = db.execute(
        "SELECT d.code FROM responses r JOIN departments d ON d.id = r.department_id JOIN surveys s "
        "ON s.id = r.survey_id WHERE s.slug = 'pick'"
    ).fetchall()
    assert stored == [("S",)]


def test_a_database_before_the_hierarchy_is_migrated(tmp_path):
    path = str(tmp_path / "old.sqlite")
    old = connect(path)
    migrations.apply(old, stop_before="m007_unit_hierarchy")
    old.execute(
        "INSERT INTO surveys (id, slug, title, language, status, instrument, created_on) "
        "VALUES (1, 's', 'S', 'nb', 'closed', '{}', '2025-01-01')"
    )
    old.execute("INSERT INTO departments (id, survey_id, code, name) VALUES (1, 1, 'A', 'Alpha')")
    old.conn.commit()
    migrate(old)
    assert "parent_id" in old["departments"].columns_dict
    survey = surveys.get_survey(old, "s")
    assert [(d.code, d.parent) for d in surveys.departments(old, survey)] == [("A", None)]
    old.close()


# --- results across levels ---------------------------------------------------------------------


def test_a_units_figures_include_its_sub_tree_and_hide_what_a_parent_would_give_away(app, client, hr_token):
    make_tree(app)
    body = get(client, hr_token, "/api/v1/surveys/tree/results")
    rows = {row["code"]: row for row in body["departments"]}
    assert body["n"] == 25
    assert rows["OPS"]["n"] == 17 and rows["S"]["n"] == 11 and rows["S1"]["n"] == 6
    assert rows["S"]["parent"] == "OPS" and "parent" not in rows["OPS"]
    assert rows["S2"] == {"code": "S2", "name": "South team 2", "parent": "S", "suppressed": True, "reason": "too_few"}
    # South minus team 1 is team 2 and South's own people together: 5, never one of them alone.
    assert not rows["S1"]["suppressed"] and "items" not in rows["S1"]
    assert rows["N"]["headcount"] == 9


def test_the_parent_of_a_small_unit_is_protected_too(app, client, hr_token):
    """A division hidden to protect a small sibling must not be the sum of its shown children."""
    units = [
        {"code": "D", "name": "Division"},
        {"code": "A", "name": "A team", "parent": "D"},
        {"code": "B", "name": "B team", "parent": "D"},
        {"code": "E", "name": "Tiny"},
        {"code": "F", "name": "Large"},
    ]
    make_tree(app, "protect", units, {"A": 6, "B": 7, "E": 2, "F": 20})
    rows = {r["code"]: r for r in get(client, hr_token, "/api/v1/surveys/protect/results")["departments"]}
    assert rows["E"]["reason"] == "too_few"
    assert rows["D"]["reason"] == "complementary"  # the smallest shown sibling of E
    assert rows["A"]["reason"] == "complementary"  # else D = A + B, and with it E = all - D - F
    assert not rows["B"]["suppressed"] and not rows["F"]["suppressed"]
    # The unit's own view refuses the hidden unit alike, and its children are the table's.
    own = get(client, hr_token, "/api/v1/surveys/protect/results?department=D")
    assert own["suppressed"] and "n" not in own and "versus" not in own
    assert [c["code"] for c in own["children"]] == ["A", "B"] and own["children"][0]["suppressed"]


def test_a_managers_view_of_a_unit(app, client, hr_token):
    make_tree(app)
    own = get(client, hr_token, "/api/v1/surveys/tree/results?department=s")
    assert own["department"] == "S" and own["n"] == 11 and len(own["items"]) > 0
    assert own["parent"]["code"] == "OPS" and own["parent"]["n"] == 17 and "items" not in own["parent"]
    assert own["organisation"]["n"] == 25
    children = {c["code"]: c for c in own["children"]}
    assert children["S1"]["n"] == 6 and children["S2"]["suppressed"]
    assert set(own["versus"]) == {"parent", "organisation"}
    for rows in own["versus"].values():
        assert [r["id"] for r in rows] == [d["id"] for d in own["dimensions"]]
        leading = next(r for r in rows if r["id"] == "leading")
        assert "diff" in leading and "significant" in leading
    # Against the rest of the organisation: South's mean minus everyone outside South.
    assert own["trend"]["rounds"][0]["slug"] == "tree" and own["trend"]["change"] is None
    top = get(client, hr_token, "/api/v1/surveys/tree/results?department=OPS")
    assert top["parent"] is None and "parent" not in top["versus"]
    assert [c["code"] for c in top["children"]] == ["N", "S"]


def test_the_comparison_filters_sorts_and_pages_units(app, client, hr_token):
    make_tree(app)
    path = "/api/v1/surveys/tree/compare"
    below_s = get(client, hr_token, f"{path}?parent=S")
    assert [d["code"] for d in below_s["departments"]] == ["S1", "S2"] and below_s["parent"]["code"] == "S"
    top = get(client, hr_token, f"{path}?parent=*&sort=name&order=desc")
    assert [d["code"] for d in top["departments"]] == ["HR", "OPS"]  # People, Operations
    page = get(client, hr_token, f"{path}?sort=n&per_page=2&page=2")
    assert page["paging"] == {"page": 2, "per_page": 2, "pages": 3, "total": 6}
    assert [d["code"] for d in page["departments"]] == ["HR", "N"]  # 25: OPS 17, S 11 | HR 8, N 6 | S1 6, S2 hidden
    by_index = get(client, hr_token, f"{path}?sort=index")["departments"]
    shown = [d["index"] for d in by_index if not d["suppressed"]]
    assert shown == sorted(shown, reverse=True) and by_index[-1]["suppressed"]
    for query, status in (("parent=ZZ", 404), ("page=0", 400), ("per_page=501", 400), ("page=x", 400)):
        assert client.get(f"{path}?{query}", headers=auth(hr_token)).status_code == status, query
    # An empty ?parent= is no parent (the fuzzer found it answered 500 once): every unit, like none given.
    assert get(client, hr_token, f"{path}?parent=&order=asc")["paging"]["total"] == 6
    bad = client.get(f"{path}?parent=a%20b", headers=auth(hr_token))
    assert bad.status_code == 400 and "parent" in bad.get_json()["fields"]


def test_rates_count_sub_trees(app, client, hr_token):
    make_tree(app)
    body = get(client, hr_token, "/api/v1/surveys/tree/rate")
    rows = {r["code"]: r for r in body["departments"]}
    assert rows["S"]["responses"] == 11 and rows["S"]["parent"] == "OPS"
    assert rows["N"]["rate"] == round(6 / 9, 4) and body["responses"] == 25
    with app.app_context():
        found = rates.response_rates(get_db(), surveys.get_survey(get_db(), "tree"))
    assert found["departments"][4]["hidden"] == privacy.TOO_FEW  # S2


def test_export_merges_hidden_units_into_their_nearest_shown_unit(app, hr_client):
    make_tree(app)
    data = hr_client.get("/admin/surveys/tree/export.csv").get_data(as_text=True).lstrip("\ufeff")
    labels = [row[0] for row in list(csv.reader(io.StringIO(data)))[1:]]
    # S2 (2) and South's own people (3) are "South (other)"; no label stands for fewer than k.
    assert sorted(set(labels)) == ["North", "People", "South (other)", "South team 1"]
    assert labels.count("South (other)") == 5 and min(labels.count(x) for x in set(labels)) >= 5


def test_export_labels_walk_up_to_the_organisation():
    depts = [
        surveys.Department(i, code, code.lower(), None, parent)
        for i, (code, parent) in enumerate([("D", None), ("A", "D"), ("B", "D"), ("E", None)])
    ]
    labels, merged = export.export_labels(depts, {"D", "A", "E"})
    assert labels == {
        0: "Other (small departments)",
        1: "Other (small departments)",
        2: "b",
        3: "Other (small departments)",
    }
    assert merged == {0, 1, 3}


def test_results_are_computed_once_for_every_unit_view(app):
    make_tree(app)
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "tree")
        results.survey_results(db, survey)
        state = results.survey_state(db, survey)
        results.survey_results(db, survey, "S1")
        assert results.survey_state(db, survey) is state


# --- the PDF at 500 units -----------------------------------------------------------------------


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"the PDF charts need Debian's Chromium at {CHROMIUM}")
def test_the_pdf_names_every_one_of_500_units(app, runner):
    result = runner.invoke(args=["demo", "--responses", "12000", "--units", "500", "--language", "en", "--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "demo")
        depts = surveys.departments(db, survey)
        table = results.survey_results(db, survey)["departments"]
        pdf = report.make_report(db, survey, "en", with_comments=False)
        division = report.make_report(db, survey, "en", "V2", with_comments=False)
    assert len(depts) == 500
    assert sum(not row["suppressed"] for row in table) > 200 and sum(row["suppressed"] for row in table) > 10

    def text_of(data: bytes) -> str:
        return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())

    def named(text: str, name: str) -> bool:
        return re.search(re.escape(name) + r"(?![\d.])", text) is not None

    text = text_of(pdf)
    missing = [row["name"] for row in table if not named(text, row["name"])]
    assert missing == []
    # A division's report: its whole sub-tree, and no other unit.
    inside = set(surveys.subtree_codes(depts, "V2"))
    text = text_of(division)
    assert all(named(text, d.name) for d in depts if d.code in inside)
    assert not any(named(text, d.name) for d in depts if d.code not in inside and d.code.startswith("V3-"))


def test_the_comparison_page_filters_and_pages_units(app, hr_client):
    units = [{"code": "D", "name": "Division"}] + [
        {"code": f"T{i}", "name": f"Team {i:02d}", "parent": "D"} for i in range(60)
    ]
    make_tree(app, "many", units, {f"T{i}": 5 for i in range(60)})
    page = hr_client.get("/admin/surveys/many/compare").get_data(as_text=True)
    assert "Page 1 of 2 (61 units)" in page and "Team 48" in page and "Team 49" not in page
    assert 'rel="next"' in page and 'rel="prev"' not in page
    page = hr_client.get("/admin/surveys/many/compare?page=2&sort=name").get_data(as_text=True)
    assert "Page 2 of 2" in page and "Team 59" in page and "Team 00" not in page
    page = hr_client.get("/admin/surveys/many/compare?parent=*").get_data(as_text=True)
    assert "Division" in page and "Team 01" not in page and "Page 1 of" not in page
    assert '<option value="D">Below Division</option>' in page


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"the browser test needs Debian's Chromium at {CHROMIUM}")
def test_the_comparison_page_of_500_units_in_a_browser(app, runner, new_page, live_server):
    """At 1366x900: one page of units, next page, a filter by parent; axe finds nothing serious or critical."""
    from axe_playwright_python.sync_playwright import Axe

    result = runner.invoke(args=["demo", "--responses", "8000", "--units", "500", "--language", "en", "--seed", "5"])
    assert result.exit_code == 0, result.output
    page = new_page({"width": 1366, "height": 900})
    log_in_as_hr(page, live_server)
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/surveys/demo/compare")
    assert page.locator("table.heat tbody tr").count() == 50
    assert page.get_by_text("Page 1 of 10 (500 units)").is_visible()
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**page=2**")
    assert page.get_by_text("Page 2 of 10 (500 units)").is_visible()
    page.get_by_label("Units", exact=True).select_option(label="Below Division 2")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**parent=V2**")
    names = page.locator("table.heat tbody th").all_inner_texts()
    assert names and all(name.startswith("Department 2.") for name in names)
    blocking = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert blocking == [], [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in blocking]


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"the PDF charts need Debian's Chromium at {CHROMIUM}")
def test_a_unit_with_too_few_invited_is_hidden_in_its_parent_and_in_the_pdf(app, client, hr_token):
    """Invitation-only: a team of two invited is never shown; its sibling covers it; the report says why."""
    units = [
        {"code": "D", "name": "Division"},
        {"code": "A", "name": "A team", "parent": "D"},
        {"code": "B", "name": "B team", "parent": "D"},
        {"code": "E", "name": "Elsewhere"},
    ]
    with app.app_context():
        db = get_db()
        survey = surveys.create_survey(
            db,
            app.extensions["instrument"],
            title="Inv",
            language="en",
            departments=units,
            slug="inv",
            collection="invitations",
        )
        tokens = {
            code: invitations.create_invitations(db, survey, surveys.department_by_code(db, survey, code), n)
            for code, n in (("A", 12), ("B", 2), ("E", 8))
        }
    given = {it.id: 4 for it in app.extensions["instrument"].items}
    for code, n in (("A", 10), ("B", 2), ("E", 8)):
        for token in tokens[code][:n]:
            assert (
                client.post("/api/v1/surveys/inv/responses", json={"invitation": token, "answers": given}).status_code
                == 201
            )
    with app.app_context():
        surveys.close(get_db(), surveys.get_survey(get_db(), "inv"))
    rows = {r["code"]: r for r in get(client, hr_token, "/api/v1/surveys/inv/results")["departments"]}
    assert rows["B"]["reason"] == "few_invited" and rows["A"]["reason"] == "complementary"
    assert rows["D"]["n"] == 12 and rows["E"]["n"] == 8
    with app.app_context():
        text = " ".join(
            page.extract_text()
            for page in PdfReader(
                io.BytesIO(report.make_report(get_db(), surveys.get_survey(get_db(), "inv"), "en"))
            ).pages
        )
    assert "B team" in text and "fewer than 5" in " ".join(text.split())
