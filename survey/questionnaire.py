"""Load and validate the instrument (questions.yaml) into frozen dataclasses."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("nb", "nn", "en")
LEVEL_IDS = ("observing", "following", "endorsing", "contributing", "owning", "leading")
BANDS = ("low", "medium", "high")
THEMES = ("goals", "roles", "means", "follow_up", "anchoring", "freedom")
KINDS = ("full", "short")  # short: one statement per level, for a live poll in a workshop
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_LIST = 5  # next steps or prompts per level: more than a few would not fit a page or a projector screen


class InstrumentError(ValueError):
    """A questions file that cannot be used; the message names file, entry and problem."""


@dataclass(frozen=True)
class Item:
    """One Likert item (answered 1..5) belonging to one level."""

    id: str
    level: str
    text: dict[str, str]
    reverse: bool = False
    short: bool = False  # the level's one statement in the short instrument


@dataclass(frozen=True)
class Action:
    """One concrete recommended action, tagged with the part of the strategy it serves."""

    theme: str
    text: dict[str, str]


@dataclass(frozen=True)
class Recommendation:
    """Advice for one score band of one level."""

    summary: dict[str, str]
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Person:
    """What one person at a step of the ladder typically does, and their next steps up (self-assessment)."""

    typical: dict[str, str]
    next_steps: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class BelowPyramid(Person):
    """The texts for a person who does not reach the first level yet, with the name of that place."""

    name: dict[str, str]


@dataclass(frozen=True)
class Level:
    """One level of the engagement pyramid, which is one dimension of the questionnaire."""

    id: str
    order: int
    name: dict[str, str]
    description: dict[str, str]
    items: tuple[Item, ...]
    recommendations: dict[str, Recommendation]
    person: Person | None = None  # None only in copies frozen before person texts existed
    prompts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # workshop questions per language


@dataclass(frozen=True)
class Question:
    """An optional extra question (eNPS or free-text comment)."""

    text: dict[str, str]
    hint: dict[str, str]


@dataclass(frozen=True)
class Instrument:
    """The whole questionnaire: levels, items, scale and optional questions."""

    version: int
    reach_threshold: float
    scale: dict[str, tuple[str, ...]]
    not_applicable: dict[str, str]
    levels: tuple[Level, ...]
    enps: Question | None
    comment: Question | None
    below_pyramid: BelowPyramid | None = None  # None only in copies frozen before person texts existed
    kind: str = "full"  # one of KINDS

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item, in questionnaire order (level by level)."""
        return tuple(item for level in self.levels for item in level.items)

    def item(self, item_id: str) -> Item | None:
        """Return the item with this id, or None."""
        return next((i for i in self.items if i.id == item_id), None)

    def level(self, level_id: str) -> Level | None:
        """Return the level with this id, or None."""
        return next((lv for lv in self.levels if lv.id == level_id), None)

    def person(self, level_id: str | None) -> Person | None:
        """Return the person texts for a profile's level (None or "none": below the pyramid), or None."""
        if level_id in (None, "none"):
            return self.below_pyramid
        level = self.level(level_id)
        return level.person if level else None

    def short(self) -> Instrument:
        """Return the short instrument for live polls: each level's short item only, no eNPS or comment."""
        levels = []
        for level in self.levels:
            items = tuple(it for it in level.items if it.short)
            if len(items) != 1:
                raise InstrumentError(f"instrument version {self.version}: level '{level.id}' has no short item")
            levels.append(replace(level, items=items))
        return replace(self, levels=tuple(levels), enps=None, comment=None, kind="short")

    def to_json(self) -> str:
        """Serialise to JSON, the frozen copy a survey keeps."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


class _Checker:
    """Walks the raw YAML and raises InstrumentError naming the file and the entry."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str) -> None:
        raise InstrumentError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str) -> dict:
        if value is None:
            self.fail(where, "is missing (expected a mapping)")
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def text(self, value: Any, where: str) -> dict[str, str]:
        """Check a translated text: a mapping with a non-empty string per language."""
        value = self.mapping(value, where)
        for lang in LANGUAGES:
            if lang not in value:
                self.fail(where, f"missing the '{lang}' text")
            if not isinstance(value[lang], str) or not value[lang].strip():
                self.fail(f"{where}.{lang}", "must be a non-empty string")
        extra = set(value) - set(LANGUAGES)
        if extra:
            self.fail(where, f"unknown language(s) {sorted(extra)}; use {list(LANGUAGES)}")
        return {lang: value[lang].strip() for lang in LANGUAGES}

    def texts(self, value: Any, where: str) -> dict[str, tuple[str, ...]]:
        """Check a list of translated texts; return, per language, the texts in list order."""
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
            self.fail(where, f"needs a list of 1 to {MAX_LIST} texts, each with {', '.join(LANGUAGES)}")
        checked = [self.text(v, f"{where}[{n}]") for n, v in enumerate(value)]
        return {lang: tuple(t[lang] for t in checked) for lang in LANGUAGES}


def _question(c: _Checker, raw: Any, where: str) -> Question | None:
    if raw is None:
        return None
    raw = c.mapping(raw, where)
    if not raw.get("enabled", True):
        return None
    return Question(text=c.text(raw.get("text"), f"{where}.text"), hint=c.text(raw.get("hint"), f"{where}.hint"))


def _person(c: _Checker, raw: Any, where: str) -> Person:
    raw = c.mapping(raw, where)
    return Person(c.text(raw.get("typical"), f"{where}.typical"), c.texts(raw.get("next_steps"), f"{where}.next_steps"))


def _below_pyramid(c: _Checker, raw: Any) -> BelowPyramid:
    person = _person(c, raw, "below_pyramid")
    return BelowPyramid(person.typical, person.next_steps, name=c.text(raw.get("name"), "below_pyramid.name"))


def _level(c: _Checker, raw: Any, order: int, seen_items: set[str]) -> Level:
    where = f"levels[{order - 1}]"
    raw = c.mapping(raw, where)
    level_id = raw.get("id")
    if level_id not in LEVEL_IDS:
        c.fail(f"{where}.id", f"{level_id!r} is not a pyramid level; use one of {list(LEVEL_IDS)}")
    if LEVEL_IDS.index(level_id) != order - 1:
        c.fail(f"{where}.id", f"{level_id!r} is out of order; levels go {' < '.join(LEVEL_IDS)}")
    where = f"level '{level_id}'"
    raw_items = raw.get("items")
    if not isinstance(raw_items, list) or len(raw_items) < 2:
        c.fail(f"{where}.items", "needs a list of at least 2 items")
    items = []
    for n, raw_item in enumerate(raw_items):
        raw_item = c.mapping(raw_item, f"{where}.items[{n}]")
        item_id = raw_item.get("id")
        if not isinstance(item_id, str) or not ID_RE.match(item_id):
            c.fail(f"{where}.items[{n}].id", f"{item_id!r} is not a valid id (lowercase letters, digits, _)")
        if item_id in seen_items:
            c.fail(f"item '{item_id}'", "duplicate item id")
        seen_items.add(item_id)
        flags = {}
        for flag in ("reverse", "short"):
            flags[flag] = raw_item.get(flag, False)
            if not isinstance(flags[flag], bool):
                c.fail(f"item '{item_id}'.{flag}", "must be true or false")
        items.append(Item(item_id, level_id, c.text(raw_item.get("text"), f"item '{item_id}'.text"), **flags))
    short = [it.id for it in items if it.short]
    if len(short) != 1:
        c.fail(
            f"{where}.items",
            f"needs exactly one item marked 'short: true' (for the short instrument), found {short or 'none'}",
        )
    raw_recs = c.mapping(raw.get("recommendations"), f"{where}.recommendations")
    recs = {}
    for band in BANDS:
        rec = c.mapping(raw_recs.get(band), f"{where}.recommendations.{band}")
        raw_actions = rec.get("actions")
        if not isinstance(raw_actions, list) or not raw_actions:
            c.fail(f"{where}.recommendations.{band}.actions", "needs a non-empty list of actions")
        actions = []
        for n, act in enumerate(raw_actions):
            at = f"{where}.recommendations.{band}.actions[{n}]"
            act = c.mapping(act, at)
            if act.get("theme") not in THEMES:
                c.fail(f"{at}.theme", f"{act.get('theme')!r} is not one of {list(THEMES)}")
            actions.append(Action(act["theme"], c.text(act.get("text"), f"{at}.text")))
        summary = c.text(rec.get("summary"), f"{where}.recommendations.{band}.summary")
        recs[band] = Recommendation(summary, tuple(actions))
    return Level(
        id=level_id,
        order=order,
        name=c.text(raw.get("name"), f"{where}.name"),
        description=c.text(raw.get("description"), f"{where}.description"),
        items=tuple(items),
        recommendations=recs,
        person=_person(c, raw.get("person"), f"{where}.person"),
        prompts=c.texts(raw.get("prompts"), f"{where}.prompts"),
    )


def parse_instrument(raw: Any, source: str = "questions.yaml") -> Instrument:
    """Validate raw YAML data and build an Instrument, or raise InstrumentError."""
    c = _Checker(source)
    raw = c.mapping(raw, "top level")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        c.fail("version", "must be a positive whole number")
    threshold = raw.get("reach_threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 1 <= threshold <= 5:
        c.fail("reach_threshold", f"{threshold!r} must be a number between 1 and 5")
    scale_raw = c.mapping(raw.get("scale"), "scale")
    scale = {}
    for lang in LANGUAGES:
        labels = scale_raw.get(lang)
        if not isinstance(labels, list) or len(labels) != 5 or not all(isinstance(s, str) and s for s in labels):
            c.fail(f"scale.{lang}", "needs exactly 5 labels, from 1 (strongly disagree) to 5 (strongly agree)")
        scale[lang] = tuple(labels)
    not_applicable = c.text(raw.get("not_applicable"), "not_applicable")
    raw_levels = raw.get("levels")
    if not isinstance(raw_levels, list) or len(raw_levels) != len(LEVEL_IDS):
        c.fail("levels", f"needs exactly {len(LEVEL_IDS)} levels: {list(LEVEL_IDS)}")
    seen: set[str] = set()
    levels = tuple(_level(c, lv, n + 1, seen) for n, lv in enumerate(raw_levels))
    return Instrument(
        version=version,
        reach_threshold=float(threshold),
        scale=scale,
        not_applicable=not_applicable,
        levels=levels,
        enps=_question(c, raw.get("enps"), "enps"),
        comment=_question(c, raw.get("comment"), "comment"),
        below_pyramid=_below_pyramid(c, raw.get("below_pyramid")),
    )


def load_instrument(path: str | Path) -> Instrument:
    """Read and validate a questions file; errors name the file and the entry."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{path}: is not valid UTF-8 (byte {exc.start})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InstrumentError(f"{path}: {line}not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    return parse_instrument(raw, str(path))


def _filled(text: dict) -> dict:
    # Copies frozen before nynorsk was added hold nb and en only; bokmål is the closest written standard.
    if "nn" not in text and "nb" in text:
        return {**text, "nn": text["nb"]}
    return text


def _question_from_json(d: dict | None) -> Question | None:
    return Question(_filled(d["text"]), _filled(d["hint"])) if d else None


def _list_from_json(d: dict) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(texts) for lang, texts in _filled(d).items()}


def _person_from_json(d: dict | None) -> Person | None:
    return Person(_filled(d["typical"]), _list_from_json(d["next_steps"])) if d else None


def _below_from_json(d: dict | None) -> BelowPyramid | None:
    return BelowPyramid(_filled(d["typical"]), _list_from_json(d["next_steps"]), _filled(d["name"])) if d else None


def instrument_from_json(text: str) -> Instrument:
    """Rebuild an Instrument from the frozen JSON copy stored with a survey (old copies included)."""
    d = json.loads(text)
    levels = []
    for lv in d["levels"]:
        items = tuple(Item(**{**it, "text": _filled(it["text"])}) for it in lv["items"])
        recs = {
            band: Recommendation(
                _filled(r["summary"]), tuple(Action(a["theme"], _filled(a["text"])) for a in r["actions"])
            )
            for band, r in lv["recommendations"].items()
        }
        levels.append(
            Level(
                lv["id"],
                lv["order"],
                _filled(lv["name"]),
                _filled(lv["description"]),
                items,
                recs,
                person=_person_from_json(lv.get("person")),
                prompts=_list_from_json(lv["prompts"]) if lv.get("prompts") else {},
            )
        )
    return Instrument(
        version=d["version"],
        reach_threshold=d["reach_threshold"],
        scale={k: tuple(v) for k, v in _filled(d["scale"]).items()},
        not_applicable=_filled(d["not_applicable"]),
        levels=tuple(levels),
        enps=_question_from_json(d["enps"]),
        comment=_question_from_json(d["comment"]),
        below_pyramid=_below_from_json(d.get("below_pyramid")),
        kind=d.get("kind", "full"),
    )
