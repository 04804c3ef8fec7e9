"""The respondent's pages: open link, department links, invitations, errors."""

from __future__ import annotations

import re

import pytest
from helpers import csrf_token, stored_answers

from survey import invitations, surveys
from survey.db import NOT_APPLICABLE, get_db


def form_data(instrument, page: str, value: str = "4", **extra) -> dict:
    """Return form data answering every item with `value`, with the page's CSRF token."""
    data = {f"q_{it.id}": value for it in instrument.items}
    data["csrf_token"] = csrf_token(page)
    data.update(extra)
    return data


def stored(db) -> list[dict]:
    """Return every stored response with its answers."""
    rows = list(db.query("SELECT * FROM responses ORDER BY id"))
    for row in rows:
        row["answers"] = stored_answers(db, row["id"])
    return rows


def test_form_shows_promise_threshold_and_every_item(client, instrument):
    page = client.get("/s/acme").get_data(as_text=True)
    assert "Your answers are confidential" in page
    assert "at least 5 answers" in page
    for item in instrument.items:
        # Every item is its own fieldset with a legend, and every radio has a label.
        assert f'id="item-{item.id}"' in page
        assert item.text["en"].replace("'", "&#39;") in page or item.text["en"] in page
        for value in ["1", "2", "3", "4", "5", "na"]:
            assert f'<label class="opt{" opt-na" if value == "na" else ""}" for="q_{item.id}_{value}">' in page
    assert page.count("<fieldset") >= len(instrument.items) + 1
    assert "Part 1 of 6" in page and "Part 6 of 6" in page
    assert "Alpha &amp; &lt;Omega&gt;" in page  # department names are escaped


def test_department_preselected_from_query(client):
    page = client.get("/s/acme?d=B").get_data(as_text=True)
    assert re.search(r'<option selected value="B">|<option value="B" selected>', page)


def test_language_switch_and_survey_default(client, instrument):
    page = client.get("/s/acme").get_data(as_text=True)
    assert '<html lang="en">' in page
    page = client.get("/s/acme?lang=nb&d=A").get_data(as_text=True)
    assert '<html lang="nb">' in page and "Svarene dine er konfidensielle" in page
    assert instrument.items[0].text["nb"] in page
    # The choice sticks for the rest of the visit, and the switch link keeps ?d=.
    page = client.get("/s/acme").get_data(as_text=True)
    assert '<html lang="nb">' in page
    assert "d=A" in client.get("/s/acme?d=A").get_data(as_text=True).split('class="lang"')[1][:200]


def test_submit_stores_response_and_thanks(client, db, instrument):
    page = client.get("/s/acme").get_data(as_text=True)
    data = form_data(instrument, page, department="B", enps="9", comment="Good <b>place</b>")
    data[f"q_{instrument.items[0].id}"] = "na"
    data.pop(f"q_{instrument.items[1].id}")
    resp = client.post("/s/acme", data=data)
    # The thank-you page, with the respondent's own profile, is the answer to the POST itself.
    assert resp.status_code == 200 and "Thank you" in resp.get_data(as_text=True)
    assert 'id="profile"' in resp.get_data(as_text=True)
    (row,) = stored(db)
    assert row["department_id"] == next(db.query("SELECT id FROM departments WHERE code='B'"))["id"]
    assert row["enps"] == 9 and row["comment"] == "Good <b>place</b>"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["submitted_on"])  # a date, never a time
    # "Not applicable" is stored as an answer of its own (never zero, missing in every figure); a blank is not stored.
    assert len(row["answers"]) == len(instrument.items) - 1
    assert row["answers"][instrument.items[0].id] == NOT_APPLICABLE
    assert instrument.items[1].id not in row["answers"]
    assert set(row["answers"].values()) == {4, NOT_APPLICABLE}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"department": ""}, "Choose your department from the list."),
        ({"department": "NOPE"}, "Not a valid choice"),
        ({"q_obs1": "7"}, "Choose an answer from 1 to 5"),
        ({"q_obs1": "abc"}, "Choose an answer from 1 to 5"),
        ({"enps": "11"}, "Choose 0 to 10"),
        ({"comment": "x" * 5001}, "at most 5,000 characters"),
    ],
)
def test_invalid_submission_explains_and_stores_nothing(client, db, instrument, change, message):
    page = client.get("/s/acme").get_data(as_text=True)
    data = form_data(instrument, page, department="A")
    data.update(change)
    resp = client.post("/s/acme", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in body
    assert "Something needs fixing" in body
    assert stored(db) == []
    # The other answers are kept in the re-rendered form.
    assert 'id="q_fol1_4" name="q_fol1" value="4" checked' in body


def test_nothing_answered_is_refused(client, db):
    page = client.get("/s/acme").get_data(as_text=True)
    resp = client.post("/s/acme", data={"csrf_token": csrf_token(page), "department": "A"})
    assert resp.status_code == 400
    assert "Answer at least one statement" in resp.get_data(as_text=True)
    assert stored(db) == []


def test_missing_or_expired_csrf_keeps_answers(client, db, instrument):
    page = client.get("/s/acme").get_data(as_text=True)
    data = form_data(instrument, page, value="2", department="C")
    data.pop("csrf_token")
    resp = client.post("/s/acme", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Your answers are kept" in body
    assert 'id="q_obs1_2" name="q_obs1" value="2" checked' in body
    assert stored(db) == []
    # Resubmitting with the fresh token from that page works.
    data["csrf_token"] = csrf_token(body)
    assert client.post("/s/acme", data=data).status_code == 200
    assert len(stored(db)) == 1


def test_closed_and_unknown_survey_pages(app, client, db, instrument):
    page = client.get("/s/acme").get_data(as_text=True)
    with app.app_context():
        surveys.set_status(get_db(), surveys.get_survey(get_db(), "acme"), "closed")
    resp = client.post("/s/acme", data=form_data(instrument, page, department="A"))
    assert resp.status_code == 409 and "This survey is closed" in resp.get_data(as_text=True)
    assert "This survey is closed" in client.get("/s/acme").get_data(as_text=True)
    assert stored(db) == []
    resp = client.get("/s/no-such-survey", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert resp.status_code == 404 and "Survey not found" in resp.get_data(as_text=True)
    resp = client.get("/s/no-such-survey", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert resp.status_code == 404 and "Fant ikke undersøkelsen" in resp.get_data(as_text=True)


def test_invitation_is_single_use_and_not_linked(app, client, db, instrument):
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        (token,) = invitations.create_invitations(
            get_db(), survey, surveys.department_by_code(get_db(), survey, "B"), 1
        )
    # The token is exchanged for the session at once: the form lives at a token-free address.
    resp = client.get(f"/i/{token}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/s/acme/invited"
    page = client.get("/s/acme/invited").get_data(as_text=True)
    assert "You are answering for the department" in page and "Beta" in page
    assert 'name="department"' not in page and token not in page
    resp = client.post("/s/acme/invited", data=form_data(instrument, page))
    assert resp.status_code == 200 and 'id="profile"' in resp.get_data(as_text=True)
    (row,) = stored(db)
    assert row["department_id"] == next(db.query("SELECT id FROM departments WHERE code='B'"))["id"]
    inv = next(db.query("SELECT * FROM invitations"))
    assert inv["used"] == 1
    assert token not in str(inv) and inv["token_hash"] != token  # stored hashed
    # No column of the response or invitation points at the other.
    assert "invitation_id" not in row and "response_id" not in inv
    again = client.get(f"/i/{token}")
    assert again.status_code == 409 and "already been used" in again.get_data(as_text=True)
    assert client.post(f"/i/{token}", data=form_data(instrument, page)).status_code == 409
    # The session no longer holds the invitation once it has been used.
    assert client.post("/s/acme/invited", data=form_data(instrument, page)).status_code == 400
    assert len(stored(db)) == 1
    assert client.get("/i/not-a-real-token").status_code == 404


def test_security_headers(client):
    resp = client.get("/s/acme")
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"


def test_oversized_and_invalid_utf8_form_posts(client, db):
    resp = client.post("/s/acme", data={"comment": "x" * 1_100_000})
    assert resp.status_code == 413 and "too large" in resp.get_data(as_text=True)
    resp = client.post(
        "/s/acme",
        data=b"department=A&q_obs1=\xff\xfe&comment=\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 400
    assert stored(db) == []


def form_key(page: str) -> str:
    match = re.search(r'name="form_key" value="([0-9a-f]{32})"', page)
    assert match, "no form key in the page"
    return match.group(1)


def test_cached_form_carries_each_visitor_its_own_csrf_token(app, client, db, instrument):
    first = client.get("/s/acme").get_data(as_text=True)
    other = app.test_client()
    second = other.get("/s/acme").get_data(as_text=True)  # served from the page cache
    assert csrf_token(first) != csrf_token(second)
    # Each rendered form also carries its own single-use key (one form gives at most one response).
    assert form_key(first) != form_key(second)
    assert first.replace(csrf_token(first), "").replace(form_key(first), "") == second.replace(
        csrf_token(second), ""
    ).replace(form_key(second), "")
    resp = other.post("/s/acme", data=form_data(instrument, second, department="B"))
    assert resp.status_code == 200 and len(stored(db)) == 1
    # Another visitor's token is refused: the cache never hands one client's token to another.
    resp = client.post("/s/acme", data=form_data(instrument, second, department="B"))
    assert resp.status_code == 400 and len(stored(db)) == 1
