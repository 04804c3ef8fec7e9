"""The respondent's form, server side: asked once when few statements are answered, one response per rendered
form whatever comes back, and the note about answers kept on the device."""

from __future__ import annotations

import datetime as dt
import re

from helpers import csrf_token

from survey.db import NOT_APPLICABLE


def form_key(page: str) -> str:
    """Return the single-use key of a rendered form."""
    return re.search(r'name="form_key" value="([0-9a-f]{32})"', page).group(1)


def test_two_of_24_answered_asks_once_and_keeps_the_answers(client, db, instrument):
    """Two answers: the form comes back (200, nothing stored) asking 'send anyway?', every answer kept; then it goes."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = {
        "department": "B",
        "q_obs1": "4",
        "q_fol2": "na",
        "form_key": form_key(page),
        "csrf_token": csrf_token(page),
    }
    asked = client.post("/s/acme", data=data)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and db["responses"].count == 0
    assert f"You have answered 2 of {len(instrument.items)} statements: send anyway?" in text
    assert 'id="q_obs1_4" name="q_obs1" value="4" checked' in text and 'value="na" checked' in text
    assert 'name="confirm_few" value="1"' in text and 'form="questionnaire"' in text
    assert 'href="#item-obs2"' in text  # "Go on answering" leads to the first unanswered statement
    assert form_key(text) == data["form_key"]  # still the same rendered form: at most one response
    sent = client.post("/s/acme", data={**data, "confirm_few": "1", "csrf_token": csrf_token(text)})
    assert sent.status_code == 200 and "Thank you for your answers" in sent.get_data(as_text=True)
    assert db["responses"].count == 1


def test_half_or_more_answered_is_sent_without_a_question(client, db, instrument):
    """Twelve of 24 answered: no question."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = {f"q_{item.id}": "3" for item in instrument.items[: len(instrument.items) // 2]}
    data.update({"department": "A", "form_key": form_key(page), "csrf_token": csrf_token(page)})
    assert "Thank you for your answers" in client.post("/s/acme", data=data).get_data(as_text=True)
    assert db["responses"].count == 1


def test_the_second_press_of_one_form_shows_the_thank_you_page(client, db, instrument):
    """The same rendered form sent twice (Back, then Submit): one response; the second press lands on thanks,
    even with its answers cleared or changed."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = {f"q_{item.id}": "4" for item in instrument.items}
    data.update({"department": "A", "form_key": form_key(page), "csrf_token": csrf_token(page)})
    assert "Thank you for your answers" in client.post("/s/acme", data=data).get_data(as_text=True)
    empty = {"form_key": data["form_key"], "csrf_token": data["csrf_token"]}
    again = client.post("/s/acme", data=empty)
    assert again.status_code == 303 and "/s/acme/thanks" in again.headers["Location"]
    assert db["responses"].count == 1


def test_the_form_says_unsent_answers_stay_on_the_device(client):
    """The note is in the page (shown by the script once storage works) and the end pages forget the answers."""
    page = client.get("/s/acme").get_data(as_text=True)
    assert 'id="kept-note" hidden' in page and "kept on this device only" in page
    thanks = client.get("/s/acme/thanks").get_data(as_text=True)
    assert 'data-forget-answers="/s/acme"' in thanks


def test_na_only_counts_as_an_answer_for_the_question_but_not_in_the_figures(client, db, instrument):
    """Twelve 'not applicable': no question (each is an answer), and the response holds no score."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = {f"q_{item.id}": "na" for item in instrument.items[:12]}
    data.update({"q_obs1": "5", "department": "A", "form_key": form_key(page), "csrf_token": csrf_token(page)})
    assert "Thank you for your answers" in client.post("/s/acme", data=data).get_data(as_text=True)
    values = [row[0] for row in db.execute("SELECT value FROM answers")]
    assert sorted(values) == [5] + [NOT_APPLICABLE] * 11


def test_the_thank_you_page_says_when_and_how_results_are_shared(client, db, hr_token, instrument):
    """With a last day: 'released after the survey closes on <day>'; always: who sees what, with k and c."""
    from babel.dates import format_date

    from survey import surveys

    last = dt.date.fromisoformat(surveys.local_today()) + dt.timedelta(days=9)
    patched = client.patch(
        "/api/v1/surveys/acme", json={"closes_at": last.isoformat()}, headers={"Authorization": f"Bearer {hr_token}"}
    )
    assert patched.status_code == 200
    page = client.get("/s/acme").get_data(as_text=True)
    data = {f"q_{item.id}": "4" for item in instrument.items}
    data.update({"department": "A", "form_key": form_key(page), "csrf_token": csrf_token(page)})
    text = re.sub(r"\s+", " ", client.post("/s/acme", data=data).get_data(as_text=True))
    shared = text[text.index('id="when-shared"') :]
    day = format_date(last, format="long", locale="en_GB")  # English as written in Europe: 6 December 2026
    assert f"Results are released after the survey closes on {day}, never while answers still come in." in shared
    survey = surveys.get_survey(db, "acme")
    assert f"groups of at least {survey.min_group_size} people" in shared
    assert f"comments are read by HR only, from groups of at least {survey.comment_min_group_size}" in shared
    assert db["responses"].count == 1
