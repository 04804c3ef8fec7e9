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
    kind: Literal["full", "short"] | None = Field(None, description="short: one statement per level (a live poll)")
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


class ProfileDimension(BaseModel):
    id: str = Field(description="a level id")
    score: Number = Field(description="0..100; null when fewer than half of the level's items are answered")


class Profile(BaseModel):
    """One respondent's own pyramid, computed from the answers just sent; stored nowhere."""

    level: str | None = Field(description="the highest level reached; null: not yet at the first level")
    dimensions: list[ProfileDimension]


class Stored(BaseModel):
    """A response was stored; the respondent's own profile comes with the answer and is kept nowhere."""

    status: Literal["stored"]
    answered: int = Field(description="number of items answered with 1..5")
    profile: Profile


class NextStep(BaseModel):
    level: str = Field(description="the level the step leads toward (the top level for someone already there)")
    text: str


class SelfAssessment(Profile):
    """A self-assessment's profile with its texts, in the language asked for; nothing is stored."""

    name: str | None = Field(None, description="the name of the level reached, or of the place below the first level")
    typical: str | None = Field(None, description="what someone at this level typically does")
    next_steps: list[NextStep]


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
    """A unit in the side-by-side table; a hidden one carries suppressed: true and no figures."""

    code: str
    name: str | None = None
    parent: str | None = Field(None, description="the code of the unit it belongs to (left out at the top)")
    suppressed: bool
    reason: str | None = Field(None, description=REASONS)
    n: int | None = None
    index: Number = None
    enps: Number = None
    headcount: int | None = None
    response_rate: Number = None
    dimensions: list[Dimension] | None = None
    pyramid: list[PyramidStep] | None = None


class GroupFigures(BaseModel):
    """A group's figures without item detail; a hidden group carries suppressed: true and no figures."""

    suppressed: bool
    reason: str | None = Field(None, description=REASONS)
    n: int | None = None
    index: Number = None
    enps: Number = None
    dimensions: list[Dimension] | None = None
    pyramid: list[PyramidStep] | None = None


class Difference(BaseModel):
    """One level of a unit against the rest of a larger group (everyone in it outside the unit's sub-tree)."""

    id: str
    suppressed: bool | None = Field(None, description="true: the unit's or the larger group's cell is hidden")
    diff: Number = Field(None, description="the unit's mean minus the rest's (1-5 scale)")
    p: Number = Field(None, description="Welch's t-test")
    p_adj: Number = Field(None, description="Benjamini-Hochberg adjusted within this view")
    d: Number = Field(None, description="Cohen's d, pooled sd")
    significant: bool | None = None


class Versus(BaseModel):
    parent: list[Difference] | None = Field(None, description="left out at the top, or when the parent is hidden")
    organisation: list[Difference]


class UnitTrend(BaseModel):
    """A unit across the rounds of a series, matched by its code."""

    rounds: list[dict] = Field(
        description="oldest first: slug, title, date, suppressed, index, scores (level id -> score); "
        "absent: true when that round had no unit with this code"
    )
    previous: dict | None = Field(None, description="the round compared with")
    change: list[dict] | None = Field(
        None, description="per shared level, the change since the previous round (null unless shown in both)"
    )


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
    departments: list[DepartmentFigures] | None = Field(
        None, description="every unit, in the survey's order, each with its parent's code (organisation results)"
    )
    parent: DepartmentFigures | None = Field(
        None, description="with ?department=: the unit it belongs to, as in the table (null for a top-level unit)"
    )
    organisation: GroupFigures | None = Field(None, description="with ?department=: the organisation's figures")
    children: list[DepartmentFigures] | None = Field(
        None, description="with ?department=: the units directly below it, side by side"
    )
    versus: Versus | None = Field(
        None,
        description="with ?department=: the unit against the rest of its parent and of the organisation "
        "(left out when the unit or the organisation is hidden)",
    )
    trend: UnitTrend | None = Field(None, description="with ?department=: the unit across the rounds of the series")


class Paging(BaseModel):
    page: int
    per_page: int
    pages: int
    total: int = Field(description="units the filter keeps, on every page")


class Comparison(BaseModel):
    """Departments side by side, the largest significant gaps and the change since the previous round."""

    slug: str
    title: str | None = None
    suppressed: bool
    min_group_size: int | None = None
    organisation: dict | None = None
    parent: DepartmentFigures | None = Field(None, description="with ?parent=CODE: that unit")
    departments: list[DepartmentFigures] | None = Field(None, description="the units of this page")
    paging: Paging | None = None
    gaps: list[dict] | None = None
    trend: dict | None = Field(
        None, description="rounds: the organisation's scores in every round; previous: the round compared with"
    )


class DepartmentRate(BaseModel):
    """A unit's responses and size, each counting its whole sub-tree."""

    code: str
    name: str | None = None
    parent: str | None = None
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


class ActionNote(BaseModel):
    """One entry of an action's history: a progress note, a status change, or both."""

    written_on: str
    author: str | None = None
    status: Literal["planned", "in_progress", "done", "dropped"] | None = Field(None, description="the new status")
    text: str | None = None


class Action(BaseModel):
    """An action of a survey's plan; without department it is the whole organisation's."""

    id: int
    level: str
    theme: Literal["goals", "roles", "means", "follow_up", "anchoring", "freedom"]
    title: str
    department: str | None = Field(None, description="a department code")
    owner: str | None = None
    owner_email: str | None = None
    due: str | None = Field(None, description="YYYY-MM-DD")
    status: Literal["planned", "in_progress", "done", "dropped"]
    created_on: str | None = None
    updated_on: str | None = None
    notes: list[ActionNote] | None = Field(None, description="the history, oldest first")


class ActionList(BaseModel):
    """A survey's action plan."""

    slug: str
    actions: list[Action]


class Deleted(BaseModel):
    """An action was deleted."""

    id: int
    deleted: Literal[True]


class Change(BaseModel):
    """The change of a level since the previous round; hidden in either round: only suppressed."""

    suppressed: bool | None = None
    not_compared: bool | None = Field(None, description="the level or the department is not in both rounds")
    points: Number = Field(None, description="score points (0-100 scale), now minus then")
    significant: bool | None = None
    p_adj: Number = None
    mean_now: Number = None
    mean_previous: Number = None
    n_now: int | None = None
    n_previous: int | None = None


class FollowedAction(Action):
    """An action of the previous round, with the change of its level for the organisation and its department."""

    organisation: Change | None = None
    department_change: Change | None = None


class FollowUp(BaseModel):
    """Since last time: the previous round's actions and what changed (only once both rounds are closed)."""

    slug: str
    previous: dict | None = Field(None, description="{slug, title, status} of the previous round; null: none")
    released: bool = Field(description="both rounds are closed, so changes are shown")
    actions: list[FollowedAction]
    statement: dict | None = Field(
        None, description="the follow-up statement: its text and, once closed, its figures (within the rules)"
    )
