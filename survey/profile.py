"""One person's own pyramid, computed from their answers by the scoring code: shown once, kept nowhere.

Nothing here reads or writes the database, the session, a cache or a log: a profile lives in
the memory of the request that computes it and is gone once its answer has been sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import scoring
from .questionnaire import Instrument, Level


@dataclass(frozen=True)
class Profile:
    """A respondent's pyramid level ("none": below the first) and score per level (0..100; None: too few answers)."""

    level: str
    scores: tuple[tuple[str, float | None], ...]

    @property
    def climbed(self) -> int:
        """Return how many levels the respondent reaches (0 below the pyramid)."""
        return next((n for n, (lid, _) in enumerate(self.scores, start=1) if lid == self.level), 0)


def compute(instrument: Instrument, answers: Mapping[str, int | None]) -> Profile:
    """Score one respondent's answers (item id -> 1..5, None or absent: not answered) with survey.scoring."""
    row = np.full((1, len(instrument.items)), np.nan)
    for column, item in enumerate(instrument.items):
        value = answers.get(item.id)
        if value is not None:
            row[0, column] = value
    dims = scoring.dimension_scores(row, instrument)
    level = int(scoring.pyramid_levels(dims, instrument.reach_threshold)[0])
    scores = scoring.to_score(dims[0])
    return Profile(
        level=scoring.level_id(level, instrument),
        scores=tuple(
            (lv.id, None if math.isnan(score) else float(score))
            for lv, score in zip(instrument.levels, scores, strict=True)
        ),
    )


def as_json(profile: Profile) -> dict:
    """Return the profile as the API gives it: {level: id or null below the pyramid, dimensions: [{id, score}]}."""
    return {
        "level": None if profile.level == scoring.LEVEL_NONE else profile.level,
        "dimensions": [{"id": lid, "score": score} for lid, score in profile.scores],
    }


def toward(instrument: Instrument, profile: Profile) -> Level:
    """Return the level the next steps lead to: the one above the respondent's (the top level stays the top)."""
    return instrument.levels[min(profile.climbed, len(instrument.levels) - 1)]


def next_steps(instrument: Instrument, profile: Profile, lang: str) -> list[dict]:
    """Return the person's next steps as [{level, text}], level being the one they lead toward (none without texts)."""
    person = instrument.person(profile.level)
    if person is None:
        return []
    target = toward(instrument, profile).id
    return [{"level": target, "text": text} for text in person.next_steps.get(lang, ())]


def level_name(instrument: Instrument, profile: Profile, lang: str) -> str | None:
    """Return the name of the respondent's level, or of the place below the pyramid (None when the copy has none)."""
    if profile.level == scoring.LEVEL_NONE:
        below = instrument.below_pyramid
        return below.name[lang] if below else None
    return instrument.level(profile.level).name[lang]


def typical(instrument: Instrument, profile: Profile, lang: str) -> str | None:
    """Return what someone at the respondent's level typically does (None when the survey's copy has no such text)."""
    person = instrument.person(profile.level)
    return person.typical[lang] if person else None


def shown(score: float | None) -> int | None:
    """Return a score as a page shows it: a whole number, halves rounded up (62.5, the reach line, shows as 63)."""
    return None if score is None else math.floor(score + 0.5)


# --- the chart: a pyramid beside a bar per level, drawn as SVG by templates/respond/_profile.html -----------------

CHART_WIDTH = 360
ROW = 38  # height of one level's row
TOP = 6
APEX, BASE = 6.0, 54.0  # half-widths of the pyramid at its top and at its base
CENTRE = 60.0
BAR_X, BAR_W = 128.0, 228.0


def chart(instrument: Instrument, profile: Profile, lang: str) -> dict:
    """Return the geometry of the profile chart: one row per level, top level first, and the reach line."""
    n = len(instrument.levels)
    height = n * ROW

    def half(y: float) -> float:
        return APEX + (BASE - APEX) * (y - TOP) / height

    rows = []
    for index, (level, (_, score)) in enumerate(reversed(list(zip(instrument.levels, profile.scores, strict=True)))):
        y0, y1 = TOP + index * ROW + 1.5, TOP + (index + 1) * ROW - 1.5
        points = [(CENTRE - half(y0), y0), (CENTRE + half(y0), y0), (CENTRE + half(y1), y1), (CENTRE - half(y1), y1)]
        if score is None:
            state = "missing"
        elif level.order <= profile.climbed:
            state = "reached"
        else:
            state = "open"
        rows.append(
            {
                "id": level.id,
                "order": level.order,
                "name": level.name[lang],
                "score": shown(score),
                "state": state,
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                "y": y0,
                "bar": 0.0 if score is None else round(BAR_W * score / 100, 1),
            }
        )
    reach = scoring.to_score(instrument.reach_threshold)
    return {
        "width": CHART_WIDTH,
        "height": TOP + height + 30,
        "rows": rows,
        "centre": CENTRE,
        "bar_x": BAR_X,
        "bar_w": BAR_W,
        "reach": shown(reach),
        "reach_x": round(BAR_X + BAR_W * reach / 100, 1),
        "bottom": TOP + height,
    }


def view(instrument: Instrument, profile: Profile, lang: str) -> dict:
    """Return everything templates/respond/_profile.html shows: level, texts, steps, the chart, missing levels."""
    target = toward(instrument, profile)
    unscored = [lv for lv, (_, score) in zip(instrument.levels, profile.scores, strict=True) if score is None]
    missing = [lv.name[lang] for lv in unscored]
    stopped_by = unscored[0] if unscored else None
    return {
        "level": profile.level,
        "climbed": profile.climbed,
        "levels": len(instrument.levels),
        "name": level_name(instrument, profile, lang),
        "typical": typical(instrument, profile, lang),
        "steps": [step["text"] for step in next_steps(instrument, profile, lang)],
        "toward": target.name[lang],
        "at_top": profile.climbed == len(instrument.levels),
        "missing": missing,
        # A level without a score ends the climb there: say so when that is what stopped it.
        "stopped_by": stopped_by.name[lang] if stopped_by and stopped_by.order == profile.climbed + 1 else None,
        "chart": chart(instrument, profile, lang),
    }
