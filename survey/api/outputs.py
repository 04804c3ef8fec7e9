"""What the API answers, as models for the OpenAPI document (the fuzzing tests check real answers against them).

Only the documentation uses these; the views build plain dicts. Fields a call may leave out
(a hidden group has no figures) are optional, and more fields may appear than are listed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Number = float | None  # a figure that cannot be computed (too few answers on a level) is null


class Error(BaseModel):
    """A request the client can fix: a message, and what to fix per field."""

    error: str
    fields: dict[str, str] | None = Field(None, description="field path -> message, e.g. 'answers.obs1'")


class DepartmentOut(BaseModel):
    code: str
    name: str
    parent: str | None = None


class LevelOut(BaseModel):
    id: str
    name: str


class ItemOut(BaseModel):
    id: str
    level: str
    text: str
    reverse: bool


class InstrumentOut(BaseModel):
    reach_threshold: float
    levels: list[LevelOut]
    items: list[ItemOut]
    enps: bool
    comment: bool


class SurveyOut(BaseModel):
    """A survey and its instrument, in the survey's language."""

    slug: str
    title: str
    language: str
    status: str
    min_group_size: int
    comment_min_group_size: int
    collection: Literal["open", "invitations"] | None = None
    previous: str | None = None
    small_groups: Literal["merge", "omit"] | None = None
    opens_at: str | None = Field(None, description="the day it opened, or (a draft) the day it is to open")
    closes_at: str | None = Field(None, description="the last day it takes answers, when one is set")
    closed_on: str | None = Field(None, description="the day it closed")
    archived: bool | None = None
    departments: list[DepartmentOut]
    instrument: InstrumentOut
    links: dict[str, str] | None = Field(None, description="after creation: the survey's addresses")


class Stored(BaseModel):
    """A response was stored."""

    status: Literal["stored"]
    answered: int = Field(description="number of items answered with 1..5")


REASONS = (
    "too_few: fewer than k answers; complementary: hidden so that a smaller group cannot be worked out from the "
    "total; few_invited: fewer than k invited (invitation-only surveys); level_hidden: an item or pyramid of a "
    "hidden level"
)


class Dimension(BaseModel):
    """A level's figures; a hidden cell has only id, suppressed and the reason."""

    id: str
    suppressed: bool | None = None
    reason: str | None = Field(None, description=REASONS)
    n: int | None = None
    mean: Number = None
    score: Number = None
    ci_low: Number = None
    ci_high: Number = None
    favourable: Number = None
    alpha: Number = Field(None, description="Cronbach's alpha; absent below 20 complete answers (see alpha_note)")
    alpha_n: int | None = Field(None, description="how many answered every statement of the level")
    alpha_note: Literal["too_few", "undefined", "below_zero", "below_warning", "ok"] | None = Field(
        None,
        description="too_few: fewer than 20 complete answers, 'too few to estimate' (alpha absent); undefined: no "
        "spread in the totals (alpha absent); below_zero: negative, shown as 'below 0' and flagged; "
        "below_warning: under 0.70; ok",
    )
    diff: Number = Field(None, description="department mean minus the rest's")
    p: Number = Field(None, description="Welch's t-test")
    p_adj: Number = Field(None, description="Benjamini-Hochberg adjusted")
    d: Number = Field(None, description="Cohen's d, pooled sd")
    significant: bool | None = None


class PyramidStep(BaseModel):
    level: str = Field(description="a level id, or 'none' below the first level")
    count: int
    share: Number


class ItemFigures(BaseModel):
    id: str
    level: str | None = None
    suppressed: bool | None = None
    reason: str | None = Field(None, description=REASONS)
    n: int | None = None
    mean: Number = None
    favourable: Number = None
    counts: list[int] | None = Field(None, description="answers 1..5")


class DepartmentFigures(BaseModel):
    """A department in the side-by-side table; a hidden one carries suppressed: true and no figures."""

    code: str
    name: str | None = None
    suppressed: bool
    reason: str | None = Field(None, description=REASONS)
    n: int | None = None
    index: Number = None
    enps: Number = None
    headcount: int | None = None
    response_rate: Number = None
    dimensions: list[Dimension] | None = None
    pyramid: list[PyramidStep] | None = None


class Results(BaseModel):
    """Results as they may be shown: a hidden group carries suppressed: true and no figures."""

    slug: str
    status: str
    min_group_size: int
    collection: Literal["open", "invitations"] | None = Field(
        None, description="open: answers through an open link are not verified"
    )
    suppressed: bool
    reason: str | None = Field(None, description=REASONS)
    department: str | None = Field(None, description="with ?department=: whose results these are")
    name: str | None = None
    n: int | None = None
    index: Number = None
    enps: Number = None
    enps_n: int | None = None
    response_rate: Number = None
    dimensions: list[Dimension] | None = None
    pyramid: list[PyramidStep] | None = Field(None, description="null when hidden (see pyramid_hidden)")
    pyramid_hidden: str | None = Field(None, description=REASONS)
    items: list[ItemFigures] | None = None
    focus_level: str | None = Field(
        None,
        description="the lowest shown level whose score is below 70 (low or medium band), where most people can "
        "move one rung up; null when every level scores 70 or more. The report and the pages name the same one.",
    )
    departments: list[DepartmentFigures] | None = None


class Comparison(BaseModel):
    """Departments side by side, the largest significant gaps and the change since the previous round."""

    slug: str
    title: str | None = None
    suppressed: bool
    min_group_size: int | None = None
    organisation: dict | None = None
    departments: list[DepartmentFigures] | None = None
    gaps: list[dict] | None = None
    trend: dict | None = Field(
        None, description="rounds: the organisation's scores in every round; previous: the round compared with"
    )


class DepartmentRate(BaseModel):
    code: str
    name: str | None = None
    suppressed: bool
    reason: str | None = None
    invited: int
    headcount: int | None = None
    base: int | None = None
    base_source: Literal["invitations", "headcount"] | None = None
    responses: int | None = None
    rate: Number = None
    more_responses_than_size: bool | None = None


class ResponseRate(BaseModel):
    """Response counts and rates as they may be shown; a group's size is its headcount or its invitations."""

    slug: str
    status: str
    min_group_size: int | None = None
    responses: int | None = Field(None, description="left out when the whole survey has fewer than k")
    invited: int
    more_responses_than_size: bool | None = None
    base: int | None = None
    rate: Number = None
    departments: list[DepartmentRate]


class Status(BaseModel):
    """A survey's state after closing or reopening it."""

    slug: str
    status: Literal["draft", "open", "closed"]
