"""questions.yaml: the real file is complete, and a broken file names file, entry and problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from survey.questionnaire import (
    BANDS,
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
    texts = [it.text[lang] for it in inst.items for lang in ("nb", "en")]
    assert len(set(texts)) == len(texts)


def test_frozen_copy_round_trips():
    inst = load_instrument(QUESTIONS)
    assert instrument_from_json(inst.to_json()) == inst


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
        (_set(["levels"], RAW["levels"][:5]), "levels", "exactly 6 levels"),
        (_set(["levels", 0, "id"], "watching"), "levels[0].id", "not a pyramid level"),
        (_set(["levels", 1, "id"], "leading"), "levels[1].id", "out of order"),
        (_set(["levels", 0, "items"], []), "level 'observing'.items", "at least 2 items"),
        (_set(["levels", 0, "items", 1, "id"], RAW["levels"][0]["items"][0]["id"]), "item 'obs1'", "duplicate"),
        (_set(["levels", 0, "items", 0, "id"], "Obs 1"), "items[0].id", "not a valid id"),
        (_set(["levels", 0, "items", 0, "text", "en"], ""), "text.en", "non-empty string"),
        (_set(["levels", 0, "items", 0, "text", "de"], "x"), "text", "unknown language"),
        (_set(["levels", 0, "items", 0, "reverse"], "yes"), "reverse", "true or false"),
        (_set(["levels", 2, "recommendations", "low"], KeyError), "level 'endorsing'.recommendations.low", "mapping"),
        (_set(["levels", 2, "recommendations", "high", "actions"], []), "high.actions", "non-empty list"),
        (_set(["levels", 2, "recommendations", "high", "actions", 0, "theme"], "vibes"), "theme", "not one of"),
        (_set(["levels", 3, "description"], "only one language"), "level 'contributing'.description", "mapping"),
        (_set(["enps", "text"], None), "enps.text", "mapping"),
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
