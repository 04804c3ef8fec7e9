"""questions.yaml: the real file is complete, and a broken file names file, entry and problem."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from survey import surveys
from survey.db import get_db
from survey.questionnaire import (
    BANDS,
    LANGUAGES,
    LEVEL_IDS,
    THEMES,
    InstrumentError,
    instrument_from_json,
    load_instrument,
    parse_instrument,
)

QUESTIONS = Path(__file__).resolve().parent.parent / "questions.yaml"
RAW = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


def test_real_instrument_is_complete():
    inst = load_instrument(QUESTIONS)
    assert [lv.id for lv in inst.levels] == list(LEVEL_IDS)
    for level in inst.levels:
        assert len(level.items) == 4
        assert all(not it.reverse for it in level.items)  # positively worded only
        for band in BANDS:
            rec = level.recommendations[band]
            themes = {a.theme for a in rec.actions}
            assert "follow_up" in themes and len(themes) >= 4 and themes <= set(THEMES)
    assert inst.enps is not None and inst.comment is not None
    assert 1 <= inst.reach_threshold <= 5
    texts = [it.text[lang] for it in inst.items for lang in LANGUAGES]
    assert len(set(texts)) == len(texts)  # every statement has its own wording in every language


def test_person_texts_for_every_level_and_below():
    inst = load_instrument(QUESTIONS)
    for person in [inst.below_pyramid, *(lv.person for lv in inst.levels)]:
        for lang in LANGUAGES:
            assert 1 <= person.typical[lang].count(".") + person.typical[lang].count("?") <= 2  # one or two sentences
            assert 2 <= len(person.next_steps[lang]) <= 3
            assert all(step.endswith(".") for step in person.next_steps[lang])
    assert inst.below_pyramid.name == {
        "nb": "Ikke på første trinn ennå",
        "nn": "Ikkje på første trinn enno",
        "en": "Not yet at the first level",
    }
    assert inst.person(None) is inst.person("none") is inst.below_pyramid
    assert inst.person("owning") is inst.level("owning").person
    assert inst.person("sleeping") is None


def test_workshop_prompts_for_every_level():
    inst = load_instrument(QUESTIONS)
    for level in inst.levels:
        for lang in LANGUAGES:
            assert 2 <= len(level.prompts[lang]) <= 3
            assert all(prompt.endswith("?") for prompt in level.prompts[lang])


# Common bokmål forms that give away a nynorsk text as word-swapped bokmål.
BOKMAL_FORMS = re.compile(
    r"\b("
    r"ikke|hva|hvordan|hvorfor|hvem|hvor|hvilke|hvilken|hvis|jeg|mye|være|bare|hele|noen|noe|flere|"
    r"virksomheten|ledelsen|medarbeideren|medarbeiderne|medarbeidere|ansatte|leder|lederen|ledere|uke|uker|"
    r"måned|måneder|selv|egen|egne|mulig|tydelig|hver|hvert|enig|enige|fra|bedre|forbedring|undersøkelse|"
    r"dere|ennå|gjøre|gjør|ble|kommer|vet|sier|følge|følger|nyheter|beslutning|beslutninger|viktigste|"
    r"kolleger|kollegene"
    r")\b",
    re.IGNORECASE,
)


def nn_texts(node, path=""):
    """Yield (path, text) for every nynorsk text in the raw YAML."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "nn":
                yield path, " ".join(value) if isinstance(value, list) else value
            else:
                yield from nn_texts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from nn_texts(value, f"{path}[{n}]")


def test_nynorsk_is_not_word_swapped_bokmal():
    slips = [(path, found) for path, text in nn_texts(RAW) for found in BOKMAL_FORMS.findall(text)]
    assert not slips


def test_short_instrument_has_one_statement_per_level():
    inst = load_instrument(QUESTIONS)
    short = inst.short()
    assert [it.id for it in short.items] == ["obs1", "fol1", "end2", "con1", "own2", "lea3"]
    assert [lv.items for lv in short.levels] == [tuple(it for it in lv.items if it.short) for lv in inst.levels]
    assert short.kind == "short" and inst.kind == "full"
    assert short.enps is None and short.comment is None
    assert [lv.prompts for lv in short.levels] == [lv.prompts for lv in inst.levels]
    assert short.below_pyramid == inst.below_pyramid and short.level("owning").person == inst.level("owning").person
    assert short.short() == short
    assert instrument_from_json(short.to_json()) == short


def raw_item_text(item_id: str, lang: str) -> str:
    return next(it["text"][lang] for lv in RAW["levels"] for it in lv["items"] if it["id"] == item_id)


def test_a_short_survey_takes_six_answers(app):
    with app.app_context():
        db = get_db()
        short = app.extensions["instrument"].short()
        survey = surveys.create_survey(
            db, short, title="Poll", language="nb", departments=[{"code": "ALL", "name": "Alle"}]
        )
        assert survey.instrument == short and len(survey.item_positions) == 6
    page = app.test_client().get(f"/s/{survey.slug}").get_data(as_text=True)
    assert short.items[0].text["nb"] in page and raw_item_text("obs2", "nb") not in page
    answers = {it.id: 5 for it in short.items}
    sent = app.test_client().post(
        f"/api/v1/surveys/{survey.slug}/responses", json={"department": "ALL", "answers": answers}
    )
    assert sent.status_code == 201, sent.json


def test_frozen_copy_round_trips():
    inst = load_instrument(QUESTIONS)
    assert instrument_from_json(inst.to_json()) == inst


NEW_KEYS = {"nn", "person", "prompts", "short", "below_pyramid", "kind"}


def without_new_keys(node):
    """Drop what was added with nynorsk, as in a copy frozen before: nn texts and the new sections."""
    if isinstance(node, dict):
        return {k: without_new_keys(v) for k, v in node.items() if k not in NEW_KEYS}
    if isinstance(node, list):
        return [without_new_keys(v) for v in node]
    return node


def old_frozen_copy() -> str:
    """A frozen copy as surveys created before nynorsk stored it: nb and en only, no person texts."""
    d = without_new_keys(json.loads(load_instrument(QUESTIONS).to_json()))
    assert not any(f'"{key}":' in json.dumps(d) for key in NEW_KEYS)
    return json.dumps(d, ensure_ascii=False)


def test_old_frozen_copy_still_loads_with_nynorsk_from_bokmal():
    inst = instrument_from_json(old_frozen_copy())
    assert inst.not_applicable["nn"] == inst.not_applicable["nb"]
    assert inst.scale["nn"] == inst.scale["nb"]
    for level in inst.levels:
        assert level.name["nn"] == level.name["nb"] and level.description["nn"] == level.description["nb"]
        assert all(it.text["nn"] == it.text["nb"] for it in level.items)
        for rec in level.recommendations.values():
            assert rec.summary["nn"] == rec.summary["nb"]
            assert all(a.text["nn"] == a.text["nb"] for a in rec.actions)
    assert inst.enps.text["nn"] == inst.enps.text["nb"] and inst.comment.hint["nn"] == inst.comment.hint["nb"]
    assert [it.text["en"] for it in inst.items] == [it.text["en"] for it in load_instrument(QUESTIONS).items]
    assert inst.below_pyramid is None and inst.person(None) is None
    assert all(level.person is None and level.prompts == {} for level in inst.levels)
    assert inst.kind == "full" and not any(it.short for it in inst.items)
    with pytest.raises(InstrumentError, match="level 'observing' has no short item"):
        inst.short()


def broken(mutate) -> dict:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    return raw


def _set(path: list, value):
    def mutate(raw):
        node = raw
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where", "problem"),
    [
        (_set(["version"], "one"), "version", "positive whole number"),
        (_set(["reach_threshold"], 7), "reach_threshold", "between 1 and 5"),
        (_set(["scale", "en"], ["a", "b"]), "scale.en", "exactly 5 labels"),
        (_set(["not_applicable", "nb"], KeyError), "not_applicable", "missing the 'nb' text"),
        (_set(["levels", 4, "items", 2, "text", "nn"], KeyError), "item 'own3'.text", "missing the 'nn' text"),
        (_set(["scale", "nn"], KeyError), "scale.nn", "exactly 5 labels"),
        (_set(["levels"], RAW["levels"][:5]), "levels", "exactly 6 levels"),
        (_set(["levels", 0, "id"], "watching"), "levels[0].id", "not a pyramid level"),
        (_set(["levels", 1, "id"], "leading"), "levels[1].id", "out of order"),
        (_set(["levels", 0, "items"], []), "level 'observing'.items", "at least 2 items"),
        (_set(["levels", 0, "items", 1, "id"], RAW["levels"][0]["items"][0]["id"]), "item 'obs1'", "duplicate"),
        (_set(["levels", 0, "items", 0, "id"], "Obs 1"), "items[0].id", "not a valid id"),
        (_set(["levels", 0, "items", 0, "text", "en"], ""), "text.en", "non-empty string"),
        (_set(["levels", 0, "items", 0, "text", "de"], "x"), "text", "unknown language"),
        (_set(["levels", 0, "items", 0, "reverse"], "yes"), "reverse", "true or false"),
        (_set(["levels", 0, "items", 0, "short"], "yes"), "item 'obs1'.short", "true or false"),
        (
            _set(["levels", 4, "items", 0, "short"], True),
            "level 'owning'.items",
            "exactly one item marked 'short: true'",
        ),
        (_set(["levels", 4, "items", 0, "short"], True), "level 'owning'.items", "found ['own1', 'own2']"),
        (_set(["levels", 1, "items", 0, "short"], False), "level 'following'.items", "found none"),
        (_set(["levels", 2, "recommendations", "low"], KeyError), "level 'endorsing'.recommendations.low", "mapping"),
        (_set(["levels", 2, "recommendations", "high", "actions"], []), "high.actions", "non-empty list"),
        (_set(["levels", 2, "recommendations", "high", "actions", 0, "theme"], "vibes"), "theme", "not one of"),
        (_set(["levels", 3, "description"], "only one language"), "level 'contributing'.description", "mapping"),
        (_set(["enps", "text"], None), "enps.text", "mapping"),
        (_set(["levels", 1, "person"], KeyError), "level 'following'.person", "is missing"),
        (_set(["levels", 5, "person", "typical"], KeyError), "level 'leading'.person.typical", "is missing"),
        (_set(["levels", 4, "person", "next_steps"], []), "level 'owning'.person.next_steps", "list of 1 to 5"),
        (_set(["levels", 4, "person", "next_steps", 1, "nn"], KeyError), "next_steps[1]", "missing the 'nn' text"),
        (_set(["levels", 2, "person", "next_steps"], "Gjør noe."), "endorsing'.person.next_steps", "list of 1 to 5"),
        (_set(["levels", 3, "prompts"], KeyError), "level 'contributing'.prompts", "list of 1 to 5"),
        (_set(["levels", 3, "prompts", 0], "Hva nå?"), "level 'contributing'.prompts[0]", "mapping"),
        (_set(["levels", 0, "prompts", 2, "nn"], ""), "level 'observing'.prompts[2].nn", "non-empty string"),
        (_set(["below_pyramid"], KeyError), "below_pyramid", "is missing"),
        (_set(["below_pyramid", "name", "en"], " "), "below_pyramid.name.en", "non-empty string"),
        (
            _set(["below_pyramid", "next_steps"], [{"nb": "x", "nn": "x", "en": "x"}] * 6),
            "below_pyramid.next_steps",
            "1 to 5",
        ),
    ],
)
def test_broken_instrument_names_entry_and_problem(mutate, where, problem):
    with pytest.raises(InstrumentError) as exc:
        parse_instrument(broken(mutate), "questions.yaml")
    message = str(exc.value)
    assert message.startswith("questions.yaml: ")
    assert where in message and problem in message


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("version: 1\nlevels: [\n  - bad: : :\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"q\.yaml: line \d+, column \d+: not valid YAML"):
        load_instrument(path)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InstrumentError, match="cannot be read"):
        load_instrument(tmp_path / "missing.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Bl\xe5b\xe6r\n".encode("latin-1"))
    with pytest.raises(InstrumentError, match="not valid UTF-8"):
        load_instrument(path)


def test_broken_file_stops_start_up(make_app, tmp_path):
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump(broken(_set(["reach_threshold"], "high"))), encoding="utf-8")
    with pytest.raises(InstrumentError, match="reach_threshold"):
        make_app(QUESTIONS=str(path))


def test_survey_keeps_its_copy_of_the_instrument(app, make_app, tmp_path):
    """Editing questions.yaml later must not change what an existing survey asks."""
    changed = broken(_set(["levels", 0, "items", 0, "text", "en"], "A brand new wording"))
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    app2 = make_app(DATABASE=app.config["DATABASE"], QUESTIONS=str(path))
    page = app2.test_client().get("/s/acme").get_data(as_text=True)
    assert "A brand new wording" not in page
    assert RAW["levels"][0]["items"][0]["text"]["en"].replace("'", "&#39;") in page


def test_survey_with_an_old_frozen_copy_still_works(app, client, db):
    """A survey created before nynorsk keeps working: its page renders and it takes answers."""
    db.execute("UPDATE surveys SET instrument = ? WHERE slug = 'acme'", [old_frozen_copy()])
    db.conn.commit()
    page = client.get("/s/acme").get_data(as_text=True)
    assert RAW["levels"][5]["items"][3]["text"]["en"] in page
    answers = {it["id"]: 4 for lv in RAW["levels"] for it in lv["items"]}
    sent = client.post("/api/v1/surveys/acme/responses", json={"department": "A", "answers": answers})
    assert sent.status_code == 201, sent.json
