"""The respondent's own pyramid (issue 16): computed by the scoring code, shown once, kept nowhere.

The reference computation below follows SCORING.md ("Per respondent") in plain Python with exact
fractions; it never calls survey.scoring.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sqlite3
from fractions import Fraction

import pytest
from helpers import csrf_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from survey import profile as profiles
from survey import surveys
from survey.cache import Cache
from survey.db import get_db

ABSENT = object()  # an item left out of the answers altogether (as opposed to "not applicable": None)


# --- the independent computation ---------------------------------------------------------------------


def reference(instrument, answers: dict) -> tuple[str, dict[str, float | None]]:
    """Return (level id or "none", {level id: 0..100 score or None}) by SCORING.md, with exact fractions."""
    means: dict[str, Fraction | None] = {}
    for level in instrument.levels:
        given_ = [
            Fraction(6 - a if item.reverse else a) for item in level.items if (a := answers.get(item.id)) is not None
        ]
        needed = (len(level.items) + 1) // 2  # at least half, rounded up
        means[level.id] = sum(given_) / len(given_) if given_ and len(given_) >= needed else None
    reached = "none"
    for level in instrument.levels:  # climb while each level's score is >= the threshold
        mean = means[level.id]
        if mean is None or mean < Fraction(instrument.reach_threshold):
            break
        reached = level.id
    return reached, {lid: None if m is None else float((m - 1) * 100 / 4) for lid, m in means.items()}


def matches(profile_json: dict, expected: tuple[str, dict]) -> bool:
    """Return True when an API profile {level, dimensions} equals the reference result."""
    level, scores = expected
    if profile_json["level"] != (None if level == "none" else level):
        return False
    got = {d["id"]: d["score"] for d in profile_json["dimensions"]}
    if list(got) != list(scores):
        return False
    return all(
        (got[k] is None and scores[k] is None)
        or (got[k] is not None and scores[k] is not None and abs(got[k] - scores[k]) < 1e-9)
        for k in scores
    )


@st.composite
def answer_sets(draw, instrument) -> dict:
    """Draw answers to an instrument: a mood, per level a tendency, each item near it, 'not applicable' or left out."""
    low, high = draw(st.sampled_from([(4, 5), (3, 5), (1, 5), (1, 3), (5, 5)]))
    answers = {}
    for level in instrument.levels:
        # Hypothesis favours the first of a list and the smallest of a range: put the tendency first.
        centre = draw(st.sampled_from(range(high, low - 1, -1)))
        near = st.sampled_from([v for v in (centre, centre + 1, centre - 1) if 1 <= v <= 5])
        for item in level.items:
            kind = draw(st.sampled_from([*["near"] * 6, "absent", "not applicable", "any"]))
            if kind == "absent":
                continue
            answers[item.id] = None if kind == "not applicable" else draw(near if kind == "near" else st.integers(1, 5))
    return answers


@st.composite
def variants(draw, base):
    """Draw a variant of the instrument: 1..4 items per level, some reverse-scored, another threshold."""
    levels = []
    for level in base.levels:
        k = draw(st.integers(1, len(level.items)))
        items = tuple(dataclasses.replace(item, reverse=draw(st.booleans())) for item in level.items[:k])
        levels.append(dataclasses.replace(level, items=items))
    threshold = draw(st.sampled_from([3.5, 1.0, 2.5, 3.0, 3.25, 3.5, 4.0, 4.75, 5.0]))
    return dataclasses.replace(base, levels=tuple(levels), reach_threshold=threshold)


def test_reference_follows_the_rules_on_hand_made_cases(instrument):
    """The reference itself, on cases worked out by hand (so that it cannot share a mistake with the code)."""
    ids = [level.id for level in instrument.levels]
    everything = {item.id: 4 for item in instrument.items}
    assert reference(instrument, everything) == ("leading", dict.fromkeys(ids, 75.0))
    # Two of four answered is enough (half, rounded up); one is not; "not applicable" is missing.
    two = {**everything, "fol1": None, "fol2": None}
    assert reference(instrument, two)[1]["following"] == 75.0
    one = {**two, "fol3": None}
    assert reference(instrument, one) == ("observing", {**dict.fromkeys(ids, 75.0), "following": None})
    # 3.5 on average reaches a level (62.5 of 100); just below does not, and the climb stops there.
    low = {**everything, "end1": 3, "end2": 3, "end3": 4, "end4": 4}
    assert reference(instrument, low)[0] == "leading"
    lower = {**low, "end4": 3}
    assert reference(instrument, lower)[0] == "following"
    assert reference(instrument, {item.id: 1 for item in instrument.items})[0] == "none"


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_profile_equals_an_independent_computation(instrument, data):
    """For random instruments and answers (not applicable, left out, too few to score), the profile is SCORING.md's."""
    inst = data.draw(variants(instrument))
    answers = data.draw(answer_sets(inst))
    profile = profiles.compute(inst, answers)
    assert matches(profiles.as_json(profile), reference(inst, answers))
    assert profile.level == reference(inst, answers)[0]


def test_api_profiles_equal_the_independent_computation(make_app):
    """Both API calls answer with the profile of the answers sent, for random answer sets."""
    app = make_app(OPEN_SUBMIT_LIMIT=10**6, SELF_ASSESSMENT_LIMIT=10**6)
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="P", language="en", departments=[{"code": "A", "name": "A"}]
        )
        slug = next(get_db().query("SELECT slug FROM surveys"))["slug"]
    client = app.test_client()
    inst = app.extensions["instrument"]

    @given(answers=answer_sets(inst))
    @settings(max_examples=40, deadline=None)
    def check(answers):
        expected = reference(inst, answers)
        if all(value is None for value in answers.values()):
            return  # refused (422): nothing answered
        resp = client.post(f"/api/v1/surveys/{slug}/responses", json={"department": "A", "answers": answers})
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        assert body["status"] == "stored"
        assert body["answered"] == sum(1 for value in answers.values() if value is not None)
        assert matches(body["profile"], expected)
        resp = client.post("/api/v1/self-assessment", json={"answers": answers, "language": "en"})
        assert resp.status_code == 200 and matches(resp.get_json(), expected)

    check()


# --- the thank-you page -------------------------------------------------------------------------------


def form_key(page: str) -> str:
    return re.search(r'name="form_key" value="([0-9a-f]{32})"', page).group(1)


def fields(page: str, answers: dict, department: str | None = "A") -> dict:
    """Return the form fields of the questionnaire page answered with `answers` (None: not applicable)."""
    data = {f"q_{item}": "na" if value is None else str(value) for item, value in answers.items()}
    data["csrf_token"] = csrf_token(page)
    data["confirm_few"] = "1"  # sent as meant, even with few statements answered (no second question)
    if 'name="form_key"' in page:
        data["form_key"] = form_key(page)
    if department:
        data["department"] = department
    return data


def answer_form(client, answers: dict, path: str = "/s/acme"):
    """Open the questionnaire, answer it and send it; return the response to the POST."""
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data=fields(page, answers, "A" if path.startswith("/s/") else None))


def shown_scores(html: str) -> list[int | None]:
    """Return the scores the chart shows, bottom level first (None: too few answers)."""
    rows = re.findall(
        r'<text class="level-name"[^>]*>[^<]*</text>\s*<text class="level-(score|missing)"[^>]*>([^<]*)<', html
    )
    return [int(text) if kind == "score" else None for kind, text in reversed(rows)]


def half_up(score: float | None) -> int | None:
    return None if score is None else int(Fraction(score) + Fraction(1, 2))


@given(data=st.data())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_thanks_page_shows_the_profile_of_the_answers_sent(app, instrument, data):
    """The page after answering shows the level and the scores of the reference computation."""
    answers = data.draw(answer_sets(instrument))
    if all(value is None for value in answers.values()):
        answers["obs1"] = 3
    level, scores = reference(instrument, answers)
    resp = answer_form(app.test_client(), answers)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="profile"' in html
    assert shown_scores(html) == [half_up(scores[lv.id]) for lv in instrument.levels]
    name = instrument.below_pyramid.name["en"] if level == "none" else instrument.level(level).name["en"]
    assert f"<strong>{name}</strong>" in html
    assert escape(instrument.person(level).typical["en"]) in html


def test_thanks_page_at_the_top_below_the_pyramid_and_with_a_level_unscored(client, instrument):
    top = answer_form(client, {item.id: 5 for item in instrument.items}).get_data(as_text=True)
    assert "You reach the level <strong>Leading</strong>" in top and "(level 6 of 6)" in top
    assert "Next steps: go deeper, and help others climb" in top
    for step in instrument.level("leading").person.next_steps["en"]:
        assert escape(step) in top

    below = answer_form(client, {item.id: 1 for item in instrument.items}).get_data(as_text=True)
    assert "<strong>Not yet at the first level</strong>" in below
    assert "Next steps toward Observing" in below
    assert escape(instrument.below_pyramid.next_steps["en"][0]) in below

    # Endorsing has one of four statements answered: no score, and the climb stops below it.
    answers = {item.id: 5 for item in instrument.items}
    answers.update({"end1": None, "end2": None, "end3": None})
    gap = answer_form(client, answers).get_data(as_text=True)
    assert "You reach the level <strong>Following</strong>" in gap
    assert "Too few answers to score: Endorsing." in gap
    assert "Your climb stops below Endorsing for that reason." in gap
    assert "Next steps toward Endorsing" in gap


def test_thanks_page_speaks_the_surveys_language(app, client, instrument):
    with app.app_context():
        surveys.create_survey(
            get_db(), instrument, title="Norsk", language="nb", departments=[{"code": "A", "name": "A"}], slug="norsk"
        )
    html = answer_form(client, {item.id: 4 for item in instrument.items}, "/s/norsk").get_data(as_text=True)
    assert '<html lang="nb">' in html
    assert "<strong>Lede</strong>" in html
    assert instrument.level("leading").person.typical["nb"] in html
    assert instrument.level("leading").person.next_steps["nb"][0] in html


def test_second_post_of_the_same_form_gets_the_plain_thank_you_page(client, db, instrument):
    """One rendered form gives one response: sent again (reload, Back), it redirects to a page without a profile."""
    page = client.get("/s/acme").get_data(as_text=True)
    data = fields(page, {item.id: 4 for item in instrument.items})
    assert client.post("/s/acme", data=data).status_code == 200
    again = client.post("/s/acme", data=data)
    assert again.status_code == 303 and again.headers["Location"] == "/s/acme/thanks?lang=en"
    plain = client.get(again.headers["Location"]).get_data(as_text=True)
    assert 'id="profile"' not in plain and "shown once" in plain
    assert 'href="/self?lang=en"' in plain
    assert db["responses"].count == 1


def test_a_survey_frozen_without_person_texts_still_shows_the_profile(app, client, db, instrument):
    """Copies of the instrument frozen before the person texts existed: level and scores, no texts to show."""
    row = next(db.query("SELECT id, instrument FROM surveys WHERE slug = 'acme'"))
    frozen = json.loads(row["instrument"])
    frozen.pop("below_pyramid")
    for level in frozen["levels"]:
        level.pop("person")
    db.execute("UPDATE surveys SET instrument = ? WHERE id = ?", [json.dumps(frozen), row["id"]])
    db.conn.commit()
    html = answer_form(client, {item.id: 4 for item in instrument.items}).get_data(as_text=True)
    assert "You reach the level <strong>Leading</strong>" in html and "Next steps" not in html


# --- kept nowhere -------------------------------------------------------------------------------------

# Answers with scores that appear nowhere by chance: 75, 68.75, 62.5, 56.25 and two levels unscored.
DISTINCT = {
    **{f"obs{n}": 4 for n in range(1, 5)},
    **dict(zip(("fol1", "fol2", "fol3", "fol4"), (4, 4, 4, 3), strict=True)),
    **dict(zip(("end1", "end2", "end3", "end4"), (4, 3, 4, 3), strict=True)),
    **dict(zip(("con1", "con2", "con3", "con4"), (3, 4, 3, 3), strict=True)),
    "own1": 5,
    "own2": None,
    "lea1": 2,
}
DISTINCT_SCORES = ("68.75", "62.5", "56.25")


def dump(app) -> set[str]:
    """Return every row of every table (and the schema) as SQL lines."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return set(conn.iterdump())
    finally:
        conn.close()


def table_of(line: str) -> str:
    return re.match(r'INSERT INTO "?(\w+)"?', line).group(1)


def profile_words(instrument, level: str) -> list[str]:
    """Return what would give the profile away: its level, texts and scores."""
    person = instrument.person(level)
    words = [level, *(instrument.level(level).name.values()), *person.typical.values()]
    words += [step for steps in person.next_steps.values() for step in steps]
    return words


def assert_holds_no_profile(text: str, words: list[str]) -> None:
    for word in words:
        assert word not in text, word
    for score in DISTINCT_SCORES:
        assert not re.search(rf"(?<![\d.]){re.escape(score)}(?![\d])", text), score


def session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def test_the_profile_after_answering_is_kept_nowhere(app, client, instrument, caplog):
    """No table, log line, session, cookie, cache or address holds the profile or ties it to the stored response."""
    caplog.set_level(logging.DEBUG)
    level, _ = reference(instrument, DISTINCT)
    assert level == "endorsing"
    words = profile_words(instrument, level)
    page = client.get("/s/acme").get_data(as_text=True)
    session_before, rows_before = session_of(client), dump(app)

    resp = client.post("/s/acme", data=fields(page, DISTINCT))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "You reach the level <strong>Endorsing</strong>" in html
    assert ">69<" in html and ">63<" in html and ">56<" in html  # the scores are on the page ...

    # ... and nowhere else. The database gained the response, its answers, the form's spent key and
    # the client's open-link count: rows with no column for a level or score, none naming the other.
    added = dump(app) - rows_before
    assert {table_of(line) for line in added} == {"responses", "answers", "form_keys", "token_attempts"}
    assert not rows_before - dump(app)  # nothing else changed
    assert_holds_no_profile("\n".join(added), words)
    # The session is untouched (no Set-Cookie at all) and holds nothing of it.
    assert "Set-Cookie" not in resp.headers
    assert session_of(client) == session_before
    # No log line mentions it.
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert_holds_no_profile(logged, words)
    # No in-memory cache of the app holds the page (the form cache keeps only empty forms).
    for extension in app.extensions.values():
        if isinstance(extension, Cache):
            assert_holds_no_profile(repr(list(extension._data.values())), words)
    # No browser or proxy cache keeps it, and Back does not show it from one.
    assert "no-store" in resp.headers["Cache-Control"]
    # It is the answer to the POST itself: no redirect, and every address on the page is free of it.
    assert "Location" not in resp.headers
    addresses = re.findall(r'(?:href|src|action|data-plain-url)="([^"]*)"', html)
    assert "/s/acme/thanks?lang=en" in addresses
    allowed = r"#main|/(s/acme/thanks|self|static/[\w./-]+)(\?lang=en)?"
    assert all(re.fullmatch(allowed, address) for address in addresses), addresses


def test_the_self_assessment_stores_nothing(app, client, instrument, caplog):
    """/self and its API: no table row but the client's count, no log line, no session key."""
    caplog.set_level(logging.DEBUG)
    words = profile_words(instrument, "endorsing")
    page = client.get("/self?lang=en").get_data(as_text=True)
    session_before, rows_before = session_of(client), dump(app)
    resp = client.post("/self?lang=en", data=fields(page, DISTINCT, None))
    assert resp.status_code == 200 and "You reach the level <strong>Endorsing</strong>" in resp.get_data(as_text=True)
    api = client.post("/api/v1/self-assessment", json={"answers": DISTINCT, "language": "en"})
    assert api.status_code == 200 and api.get_json()["level"] == "endorsing"

    after = dump(app)
    changed = (after - rows_before) | (rows_before - after)
    assert {table_of(line) for line in changed} == {"token_attempts"}
    # The one row: a keyed hash of the address, a time slot and the count of self-assessments.
    assert all(re.search(r"'self:[0-9a-f]{64}',\d+,2\)", line) for line in after - rows_before)
    assert_holds_no_profile("\n".join(changed), words)
    assert "Set-Cookie" not in resp.headers and "Set-Cookie" not in api.headers
    assert session_of(client) == session_before
    assert_holds_no_profile("\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records), words)
    assert "no-store" in resp.headers["Cache-Control"] and "no-store" in api.headers["Cache-Control"]


def test_the_self_assessment_form_writes_no_language_into_the_session(client):
    """Unlike the survey pages, ?lang= on /self is not remembered: only the form's CSRF token is in the session."""
    client.get("/self?lang=nn")
    assert set(session_of(client)) == {"csrf_token"}


def test_every_profile_answer_has_the_same_length(app, client, instrument):
    """Access logs record the length of each answer next to the address: it must not depend on the profile."""
    sets = [
        {item.id: 5 for item in instrument.items},
        {item.id: 1 for item in instrument.items},
        DISTINCT,
        {"obs1": 4, "obs2": 4},
        {item.id: value for item, value in zip(instrument.items, [4, 3, 5, 2] * 6, strict=True)},
    ]
    pages = {len(answer_form(client, answers).data) for answers in sets}
    assert len(pages) == 1
    # The longest title a survey can have, in three-byte letters, moves no page over a block boundary.
    with app.app_context():
        surveys.create_survey(
            get_db(), instrument, title="€" * 200, language="en", departments=[{"code": "A", "name": "A"}], slug="long"
        )
    pages = {len(answer_form(client, answers, "/s/long").data) for answers in sets}
    assert len(pages) == 1
    selfs = {len(answer_form(client, answers, "/self?lang=nn").data) for answers in sets}
    assert len(selfs) == 1
    posted = [
        client.post("/api/v1/surveys/acme/responses", json={"department": "A", "answers": answers}) for answers in sets
    ]
    assert {r.status_code for r in posted} == {201} and len({len(r.data) for r in posted}) == 1
    for language in ("nb", "nn", "en"):
        answered = [client.post("/api/v1/self-assessment", json={"answers": a, "language": language}) for a in sets]
        assert {r.status_code for r in answered} == {200} and len({len(r.data) for r in answered}) == 1


# --- the self-assessment --------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "others"), [("nb", ("nn", "en")), ("nn", ("nb", "en")), ("en", ("nb", "nn"))])
def test_self_assessment_form_in_each_language(client, instrument, lang, others):
    html = client.get(f"/self?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert instrument.items[0].text[lang] in html
    assert instrument.not_applicable[lang] in html
    assert 'name="q_obs1"' in html and 'name="department"' not in html and 'name="enps"' not in html
    assert f'action="/self?lang={lang}"' in html
    for other in others:
        assert f'href="/self?lang={other}"' in html


def test_self_assessment_shows_the_profile_in_its_language(client, instrument):
    resp = answer_form(client, {item.id: 4 for item in instrument.items}, "/self?lang=nn")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<strong>Leie</strong>" in html
    assert instrument.level("leading").person.typical["nn"] in html
    assert 'data-plain-url="/self?lang=nn"' in html
    assert 'class="lang-list"' not in html  # switching language would leave the profile


def test_self_assessment_form_errors_keep_the_answers(app, client, instrument):
    page = client.get("/self?lang=en").get_data(as_text=True)
    none = client.post("/self?lang=en", data=fields(page, dict.fromkeys(["obs1", "obs2"])))
    assert none.status_code == 400 and "Answer at least one statement" in none.get_data(as_text=True)
    data = fields(page, {"obs1": 2, "fol1": None})
    data["csrf_token"] = "expired"
    resp = client.post("/self?lang=en", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Your answers are kept" in body
    assert 'id="q_obs1_2" name="q_obs1" value="2" checked' in body and "no-store" in resp.headers["Cache-Control"]
    data["csrf_token"] = csrf_token(body)
    assert client.post("/self?lang=en", data=data).status_code == 200
    bad = fields(page, {"obs1": 7})
    assert client.post("/self?lang=en", data=bad).status_code == 400


@pytest.fixture
def limited(make_app):
    """An app whose self-assessment allows 3 per client within the window."""
    return make_app(SELF_ASSESSMENT_LIMIT=3, SELF_ASSESSMENT_WINDOW=600)


def test_self_assessment_is_throttled_per_client(limited, make_app):
    client = limited.test_client()
    answers = {"obs1": 4, "obs2": 5}
    for _ in range(2):
        assert answer_form(client, answers, "/self?lang=en").status_code == 200
    assert client.post("/api/v1/self-assessment", json={"answers": answers}).status_code == 200
    resp = answer_form(client, answers, "/self?lang=en")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 1200
    minutes = -(-int(resp.headers["Retry-After"]) // 60)
    assert f"Wait {minutes} minutes" in body and 'value="5" checked' in body  # the answers are kept
    api = client.post("/api/v1/self-assessment", json={"answers": answers})
    assert api.status_code == 429 and "Retry-After" in api.headers
    assert "Too many self-assessments" in api.get_json()["error"]
    # Another address is not affected; a second worker on the same file counts with the first.
    other = limited.test_client()
    ok = other.post("/api/v1/self-assessment", json={"answers": answers}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert ok.status_code == 200
    worker = make_app(DATABASE=limited.config["DATABASE"], SELF_ASSESSMENT_LIMIT=3).test_client()
    assert worker.post("/api/v1/self-assessment", json={"answers": answers}).status_code == 429
    # The survey's own submissions are counted apart.
    with limited.app_context():
        surveys.create_survey(
            get_db(),
            limited.extensions["instrument"],
            title="S",
            language="en",
            departments=[{"code": "A", "name": "A"}],
        )
        slug = next(get_db().query("SELECT slug FROM surveys"))["slug"]
    posted = client.post(f"/api/v1/surveys/{slug}/responses", json={"department": "A", "answers": answers})
    assert posted.status_code == 201


SELF_BODIES = [
    (
        {"answers": {"obs1": 4}, "language": "de"},
        "language",
        "'nb' (Norwegian bokmål), 'nn' (Norwegian nynorsk) or 'en'",
    ),
    ({"answers": {"obs1": 4}, "language": None}, "language", "'nn'"),
    ({"answers": {"nope": 4}}, "answers.nope", "obs1, obs2"),
    ({"answers": {"obs1": "4"}}, "answers.obs1", "whole number from 1 to 5"),
    ({"answers": {"obs1": 6}}, "answers.obs1", "whole number from 1 to 5"),
    ({"answers": {"obs1": None}}, "answers", "at least one"),
    ({"answers": {}}, "answers", "at least one"),
    ({"answers": [4]}, "answers", "object of item id"),
    ({}, "answers", "object of item id"),
    ({"answers": {"obs1": 4}, "department": "A"}, "department", "Unknown field"),
]


@pytest.mark.parametrize(("body", "field", "message"), SELF_BODIES)
def test_self_assessment_api_refuses_invalid_input(client, db, body, field, message):
    before = db["token_attempts"].count
    resp = client.post("/api/v1/self-assessment", json=body)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"] == "Invalid self-assessment."
    assert message in resp.get_json()["fields"][field]
    assert db["token_attempts"].count == before  # refused input is not counted


def test_self_assessment_api_answers_with_texts(client, instrument):
    resp = client.post("/api/v1/self-assessment", json={"answers": {item.id: 4 for item in instrument.items}})
    body = resp.get_json()
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert body["level"] == "leading" and body["name"] == "Lede"  # nb by default
    assert body["typical"] == instrument.level("leading").person.typical["nb"]
    assert body["next_steps"] == [
        {"level": "leading", "text": text} for text in instrument.level("leading").person.next_steps["nb"]
    ]
    below = client.post("/api/v1/self-assessment", json={"answers": {"obs1": 1, "obs2": 2}, "language": "en"})
    body = below.get_json()
    assert body["level"] is None and body["name"] == "Not yet at the first level"
    assert [d["score"] for d in body["dimensions"]] == [12.5, None, None, None, None, None]
    assert {step["level"] for step in body["next_steps"]} == {"observing"}


def test_openapi_documents_the_self_assessment_and_the_profile(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/self-assessment"]["post"]
    assert set(operation["responses"]) >= {"200", "422", "429"}
    schemas = spec["components"]["schemas"]
    assert "profile" in schemas["Stored"]["required"]
    assert {"level", "dimensions", "next_steps"} <= set(schemas["SelfAssessment"]["properties"])


def test_hr_survey_list_shares_the_self_assessment(hr_client):
    html = hr_client.get("/admin/").get_data(as_text=True)
    assert "Share the self-assessment" in html
    for lang in ("nb", "nn", "en"):
        assert f"https://survey.example.org/self?lang={lang}" in html
