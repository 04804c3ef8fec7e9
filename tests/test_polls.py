"""Live polls: the short instrument, the screen, answers by code on phones, counts within the rules, results."""

from __future__ import annotations

import re

import pytest
from helpers import FAC_EMAIL, FAC_PASSWORD, close_survey, csrf_token, login

from survey import polls, surveys
from survey.db import get_db
from survey.responses import Submission, save_response


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def start_poll(client, **fields) -> tuple[str, str]:
    """Start a poll through the page; return its slug and code."""
    page = client.get("/admin/polls/new").get_data(as_text=True)
    data = {"title": "Management team", "language": "en", "linked": "", "min_group_size": "5", **fields}
    resp = client.post("/admin/polls/new", data={**data, "csrf_token": csrf_token(page)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    slug = resp.headers["Location"].rsplit("/", 1)[1]
    screen = client.get(f"/admin/polls/{slug}").get_data(as_text=True)
    code = re.search(r'id="poll-code">([A-Z0-9]{6})<', screen).group(1)
    return slug, code


def answer(app, code: str, values: dict[str, str] | int, path: str | None = None):
    """Answer a poll like a phone: open the page, pick answers, send."""
    phone = app.test_client()
    page = phone.get(path or f"/p/{code}")
    html = page.get_data(as_text=True)
    items = re.findall(r'name="(q_[a-z0-9]+)" value="1"', html)
    form = {name: str(values) if isinstance(values, int) else values.get(name, "na") for name in items}
    key = re.search(r'name="form_key" value="([0-9a-f]{32})"', html).group(1)
    return phone.post(f"/p/{code}", data={**form, "csrf_token": csrf_token(html), "form_key": key})


def count(client, slug: str) -> dict:
    return client.get(f"/admin/polls/{slug}/count.json").json


def test_the_api_creates_a_short_survey(client, hr_token, instrument):
    resp = client.post(
        "/api/v1/surveys",
        json={"title": "Pulse", "departments": [{"code": "R", "name": "Room"}], "instrument": "short"},
        headers=auth(hr_token),
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["kind"] == "short"
    assert [it["id"] for it in resp.json["instrument"]["items"]] == [it.id for it in instrument.short().items]
    assert resp.json["instrument"]["enps"] is False


def test_a_facilitator_runs_a_poll_from_start_to_results(app, fac_client, db, instrument):
    slug, code = start_poll(fac_client)
    screen = fac_client.get(f"/admin/polls/{slug}").get_data(as_text=True)
    assert f"https://survey.example.org/p/{code}" in screen and f"/admin/polls/{slug}/qr.svg" in screen
    assert "fac@example.org" not in screen and "<nav" not in screen  # nothing of the account on the screen
    qr = fac_client.get(f"/admin/polls/{slug}/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert count(fac_client, slug) == {"status": "open", "answered": None, "k": 5, "ready": False}

    short = [it.id for it in instrument.short().items]
    split, agreed = short[0], short[1]
    for n in range(4):
        resp = answer(app, code.lower(), {f"q_{split}": "1" if n % 2 else "5", f"q_{agreed}": "4"})
        assert resp.status_code == 302 and resp.headers["Location"].startswith(f"/p/{code}/thanks")
    # Below k the count is "fewer than k", and closing is refused with a reason.
    assert count(fac_client, slug)["answered"] is None
    refused = fac_client.post(
        f"/admin/polls/{slug}/close", data={"csrf_token": csrf_token(screen)}, follow_redirects=True
    )
    assert "Fewer than 5 people have answered, so the poll cannot be closed yet" in refused.get_data(as_text=True)
    with app.app_context():
        assert surveys.get_survey(get_db(), slug).is_open
    assert answer(app, code, {f"q_{split}": "5", f"q_{agreed}": "4"}).status_code == 302
    assert answer(app, code, {f"q_{split}": "1", f"q_{agreed}": "5"}).status_code == 302
    assert count(fac_client, slug) == {"status": "open", "answered": 6, "k": 5, "ready": True}

    done = fac_client.post(f"/admin/polls/{slug}/close", data={"csrf_token": csrf_token(screen)}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "6 answered. The most divided statements first." in html
    rows = re.findall(r'<th scope="row" class="stmt-row"><span class="lvl">[^<]*</span>([^<]*)</th>', html)
    texts = {it.id: it.text["en"] for it in instrument.short().items}
    assert rows[0] == texts[split]  # 5,1,5,1,5,1: the most divided
    assert rows.index(texts[agreed]) == 1
    # Statements nobody answered: hidden, last.
    assert html.count("hidden: too few answers") == len(short) - 2
    assert count(fac_client, slug)["status"] == "closed"
    # A closed poll takes no more answers.
    phone = app.test_client()
    assert "no longer accepts answers" in phone.get(f"/p/{code}").get_data(as_text=True)


def test_codes_are_found_in_any_case_and_through_the_entry_page(app, fac_client):
    _slug, code = start_poll(fac_client)
    phone = app.test_client()
    assert phone.get("/p").status_code == 200
    found = phone.get(f"/p?code={code.lower()[:3]}-{code.lower()[3:]}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/p/{code}")
    missing = phone.get("/p?code=AAAAAA")
    assert missing.status_code == 404 and "There is no poll with the code" in missing.get_data(as_text=True)
    assert phone.get("/p/AAAAAA").status_code == 404
    assert phone.get(f"/p/{code}/thanks").status_code == 200


def test_a_phone_form_sent_twice_counts_once_and_bad_answers_are_refused(app, fac_client, db, instrument):
    slug, code = start_poll(fac_client)
    phone = app.test_client()
    html = phone.get(f"/p/{code}").get_data(as_text=True)
    key = re.search(r'name="form_key" value="([0-9a-f]{32})"', html).group(1)
    form = {f"q_{it.id}": "3" for it in instrument.short().items}
    for _ in range(2):
        assert (
            phone.post(f"/p/{code}", data={**form, "csrf_token": csrf_token(html), "form_key": key}).status_code == 302
        )
    with app.app_context():
        poll = surveys.get_survey(get_db(), slug)
    assert db.execute("SELECT COUNT(*) FROM responses WHERE survey_id = ?", [poll.id]).fetchone()[0] == 1
    empty = phone.post(f"/p/{code}", data={"csrf_token": csrf_token(html)})
    assert empty.status_code == 400 and "Answer at least one statement" in empty.get_data(as_text=True)
    wrong = phone.post(f"/p/{code}", data={**form, "q_obs1": "9", "csrf_token": csrf_token(html)})
    assert wrong.status_code == 400
    assert phone.post(f"/p/{code}", data=form).status_code == 400  # no CSRF token
    assert db.execute("SELECT COUNT(*) FROM responses WHERE survey_id = ?", [poll.id]).fetchone()[0] == 1


def test_a_poll_linked_to_a_survey_takes_its_threshold_and_shows_its_answers(app, hr_client, instrument):
    with app.app_context():
        db = get_db()
        acme = surveys.get_survey(db, "acme")
        db.execute("UPDATE surveys SET min_group_size = 6 WHERE id = ?", [acme.id])
        db.conn.commit()
        acme = surveys.get_survey(db, "acme")
        for code in ("A", "B", "C"):
            dept = surveys.department_by_code(db, acme, code)
            for _ in range(7):
                save_response(db, acme, Submission(dept.id, {it.id: 4 for it in instrument.items}, None, None))
    close_survey(app)
    new = hr_client.get("/admin/polls/new?linked=acme").get_data(as_text=True)
    assert '<option selected value="acme">' in new or 'value="acme" selected' in new
    slug, code = start_poll(hr_client, linked="acme", min_group_size="3")
    with app.app_context():
        poll = surveys.get_survey(get_db(), slug)
        assert poll.min_group_size == 6 and poll.kind == "short"
        assert polls.poll_info(get_db(), poll)["linked"].slug == "acme"
    for n in range(6):
        answer(app, code, 1 + n % 5)
    page = hr_client.post(
        f"/admin/polls/{slug}/close", data={"csrf_token": csrf_token(new)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Agree in “Acme 2026”" in page and "100 %" in page  # everyone in acme agreed (4)
    assert "/admin/surveys/acme/present" in page


def test_polls_are_listed_and_need_a_login(app, client, fac_client):
    slug, code = start_poll(fac_client, title="Kick-off")
    listing = fac_client.get("/admin/polls").get_data(as_text=True)
    assert "Kick-off" in listing and code in listing
    for path in ("/admin/polls", "/admin/polls/new", f"/admin/polls/{slug}", f"/admin/polls/{slug}/count.json"):
        assert client.get(path).status_code == 302
    assert fac_client.get("/admin/polls/acme").status_code == 404  # a survey, but no poll


@pytest.mark.parametrize("size", ["2", "x", ""])
def test_the_poll_form_refuses_a_threshold_below_three(fac_client, db, size):
    page = fac_client.get("/admin/polls/new").get_data(as_text=True)
    data = {"title": "", "language": "en", "linked": "", "min_group_size": size, "csrf_token": csrf_token(page)}
    resp = fac_client.post("/admin/polls/new", data=data)
    assert resp.status_code == 400
    assert db.execute("SELECT COUNT(*) FROM polls").fetchone()[0] == 0


def test_facilitator_login(app):
    client = app.test_client()
    assert login(client, FAC_EMAIL, FAC_PASSWORD).status_code == 302
    assert client.get("/admin/polls/new").status_code == 200


def test_the_survey_list_never_shows_a_count_below_k(app, fac_client):
    _slug, code = start_poll(fac_client, title="Count watch")
    for _ in range(2):
        answer(app, code, 4)
    row = fac_client.get("/admin/").get_data(as_text=True).split("Count watch")[1].split("</tr>")[0]
    assert "fewer than 5" in row and ">2<" not in row
    for _ in range(3):
        answer(app, code, 4)
    row = fac_client.get("/admin/").get_data(as_text=True).split("Count watch")[1].split("</tr>")[0]
    assert '<td class="num">5</td>' in row
