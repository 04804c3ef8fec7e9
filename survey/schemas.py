"""One definition per input: the models the API, the HR form and the domain checks validate with, and their messages.

Every model is strict (no "5" for 5, no true for 1) and refuses unknown fields. A person never
sees pydantic's own wording: `field_errors` turns a ValidationError into `{field: message}`
from the model's `messages` table (keyed by field path, `*` for any list index or key, and an
optional `:error_type`), or from the message a validator raised with `rule(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from flask_babel import gettext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .i18n import number

MAX_K = 10_000  # a threshold above this would hide every group of any real organisation
MAX_HEADCOUNT = 10_000_000
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
RULE = "rule"  # the error type of our own checks, whose message is already the one to show


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it yet (it is translated where it is shown)."""
    return message


GENERIC = N_("This value is not valid here.")


def rule(message: str, field: str | None = None, **values: Any) -> PydanticCustomError:
    """Return an error with our own message ({name} placeholders filled from values), optionally naming its field.

    The message is translated here, in the language of the request that is being checked.
    """
    return PydanticCustomError(RULE, gettext(message), {**values, **({"field": field} if field else {})})


class Strict(BaseModel):
    """A request body: exact JSON types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")
    messages: ClassVar[dict[str, str]] = {}


class Query(BaseModel):
    """Query parameters: text values; a parameter the call does not know is refused (a typo must not pass unseen)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    messages: ClassVar[dict[str, str]] = {"*:extra_forbidden": N_("Unknown parameter; remove it.")}


Code = Annotated[str, Field(pattern=CODE_PATTERN, description="1-32 letters, digits, '-' or '_'")]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"})]
GroupSize = Annotated[int, Field(ge=3, le=MAX_K)]


def _blank_is_none(value: object) -> object:
    # An empty query parameter (?department=) means the same as leaving it out.
    return None if value == "" else value


# --- Surveys ------------------------------------------------------------------------------------


class DepartmentIn(Strict):
    """A department (unit) of a new survey."""

    code: Code
    name: Annotated[str, Field(max_length=120, pattern=r"\S")]
    headcount: Annotated[int, Field(ge=0, le=MAX_HEADCOUNT, description="people in the unit, for rates")] | None = None
    parent: Code | None = Field(None, description="code of the unit this one belongs to")


class SurveyIn(Strict):
    """A new survey: settings and departments; the questions come from the instrument."""

    title: Annotated[str, Field(max_length=200, pattern=r"\S")]
    slug: Annotated[str, Field(max_length=64, pattern=SLUG_PATTERN)] | None = Field(
        None, description="the survey's address /s/<slug>; made from the title when left out"
    )
    language: Literal["nb", "nn", "en"] = "nb"
    departments: Annotated[list[DepartmentIn], Field(min_length=1)]
    min_group_size: GroupSize | None = Field(
        None, description="fewest answers a group needs before its figures are shown (default 5)"
    )
    comment_min_group_size: GroupSize | None = Field(
        None, description="fewest answers before comments are shown; >= min_group_size (default max(10, that))"
    )
    collection: Literal["open", "invitations"] = Field(
        "open", description="open: anyone with the link answers; invitations: personal links only"
    )
    instrument: Literal["full", "short"] = Field(
        "full", description="short: one statement per level, for a live poll in a workshop"
    )
    previous: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="slug of the previous round of the series"
    )
    small_groups: Literal["merge", "omit"] = Field(
        "merge", description="whether the raw export merges groups below the threshold into 'other' or omits them"
    )
    followup_statement: bool = Field(
        False,
        description="also ask 'I have seen changes since the last survey' (1-5), reported on its own, never part "
        "of a level or the index",
    )
    draft: bool = Field(False, description="true: prepare it as a draft, not answerable until opened (or opens_at)")
    opens_at: Day | None = Field(None, description="the day it opens for answers (a draft until then); default today")
    closes_at: Day | None = Field(None, description="the last day it takes answers; it closes by itself after it")

    messages: ClassVar[dict[str, str]] = {
        "title": N_("Give the survey a title."),
        "title:string_too_long": N_("Keep the title under 200 characters."),
        "slug": N_("Use 1-64 lowercase letters, digits and dashes (not at the ends)."),
        "language": N_("Choose 'nb' (Norwegian bokmål), 'nn' (Norwegian nynorsk) or 'en' (English)."),
        "departments": N_("Send a list of {code, name, headcount?, parent?} objects."),
        "departments:too_short": N_("Add at least one department."),
        "departments.*": N_("Department %(n)s: send an object {code, name, headcount?, parent?}."),
        "departments.*.code": N_("Department %(n)s: the code must be 1-32 letters, digits, '-' or '_'."),
        "departments.*.name": N_("Department %(n)s: give a name of 1-120 characters."),
        "departments.*.headcount": N_(
            "Department %(n)s: the headcount must be a whole number from 0 to %(max_headcount)s, or left out."
        ),
        "departments.*.parent": N_("Department %(n)s: the parent must be the code of another department, or left out."),
        "departments.*.*:extra_forbidden": N_("Department %(n)s: unknown field '%(name)s'; remove it."),
        "min_group_size": N_("The minimum group size must be a whole number from 3 to %(max_k)s."),
        "comment_min_group_size": N_("The comment threshold must be a whole number >= the minimum group size."),
        "collection": N_("Choose 'open' (anyone with the link) or 'invitations' (personal links only)."),
        "instrument": N_("Choose 'full' (every statement) or 'short' (one statement per level)."),
        "previous": N_("Send the slug of the earlier round, or leave it out."),
        "small_groups": N_("Choose 'merge' (into one 'other' group) or 'omit'."),
        "followup_statement": N_("Send true to ask the follow-up statement, or false (the default)."),
        "draft": N_("Send true (a draft) or false."),
        "opens_at": N_("Give the opening day as a date (YYYY-MM-DD)."),
        "closes_at": N_("Give the last day for answers as a date (YYYY-MM-DD)."),
        "anonymous:extra_forbidden": N_(
            "'anonymous' was replaced by 'collection': send 'open' (anyone with the link) "
            "or 'invitations' (personal links only)."
        ),
    }

    @field_validator("comment_min_group_size")
    @classmethod
    def _comments_need_at_least_the_group_size(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_group_size")
        if value is not None and low is not None and value < low:
            raise rule(cls.messages["comment_min_group_size"])  # translated by rule()
        return value

    @field_validator("departments")
    @classmethod
    def _codes_unique_parents_known(cls, departments: list[DepartmentIn]) -> list[DepartmentIn]:
        problem = unit_problem(
            [(d.code, d.name, d.parent) for d in departments], lambda n: gettext("Department %(n)s", n=n)
        )
        if problem:
            raise rule("{problem}", problem=problem)  # a name may hold braces: never a template
        return departments


def unit_problem(units: list[tuple[str, str, str | None]], label: Callable[[int], str]) -> str | None:
    """Return what is wrong with a list of (code, name, parent code) units, naming the unit by label(n), or None.

    Codes and names must be unique (case-insensitively); a parent must be one of the units, not
    the unit itself, and following parents upwards must never come back to where it started.
    Shared by the API (SurveyIn: "Department 3") and the HR form ("Line 4").
    """
    codes: dict[str, int] = {}
    names: set[str] = set()
    for n, (code, name, _) in enumerate(units, start=1):
        if code.lower() in codes:
            return gettext("%(where)s: the code '%(code)s' is used twice.", where=label(n), code=code)
        codes[code.lower()] = n
        if name.strip().casefold() in names:
            # Two units with one name would let a "department" of one person hide behind the other.
            return gettext(
                "%(where)s: the name '%(name)s' is used twice; give each department its own name.",
                where=label(n),
                name=name.strip(),
            )
        names.add(name.strip().casefold())
    parents = {code.lower(): (parent or "").lower() for code, _, parent in units}
    spelled = {code.lower(): code for code, _, _ in units}
    for n, (code, _, parent) in enumerate(units, start=1):
        if not parent:
            continue
        if parent.lower() == code.lower():
            return gettext("%(where)s: '%(code)s' cannot be its own parent.", where=label(n), code=code)
        if parent.lower() not in codes:
            return gettext(
                "%(where)s: the parent '%(parent)s' is not one of the departments.", where=label(n), parent=parent
            )
        # Follow the parents up: a unit must never end up inside itself.
        path, current = [code.lower()], parents[code.lower()]
        while current and current not in path:
            path.append(current)
            current = parents.get(current, "")
        if current:
            circle = " → ".join(spelled[c] for c in [*path[path.index(current) :], current])
            return gettext(
                "%(where)s: the parents of '%(code)s' go round in a circle (%(circle)s).",
                where=label(n),
                code=code,
                circle=circle,
            )
    return None


def department_problem(unit: dict, label: str) -> str | None:
    """Return what is wrong with one unit's own fields (code, name, headcount, parent), naming it by label."""
    try:
        DepartmentIn.model_validate(unit)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        parts = ["departments", "*", *_pattern(error["loc"])]
        text = _lookup(SurveyIn.messages, parts, error["type"]) or f"Department %(n)s: {GENERIC}"
        # The message names "Department N" (the API's words); the form names its line instead: the
        # translated message is filled with a marker where N goes, and everything before it replaced.
        full = message_text(text, n="\x00", name=error["loc"][-1] if error["loc"] else "")
        return label + full.split("\x00", 1)[1] if "\x00" in full else full
    return None


class SurveyChange(Strict):
    """A change to a survey's life: its dates, its departments (until the first answer) or its place in the list."""

    opens_at: Day | None = Field(None, description="a draft's opening day; null: opened by hand")
    closes_at: Day | None = Field(None, description="the last day for answers; null: closed by hand")
    departments: Annotated[list[DepartmentIn], Field(min_length=1)] | None = Field(
        None, description="every department, matched by code; only before the first answer"
    )
    archived: bool | None = Field(None, description="true: out of the main list (closed surveys and drafts)")

    messages: ClassVar[dict[str, str]] = {
        **{
            name: text
            for name, text in SurveyIn.messages.items()
            if name.split(".")[0].split(":")[0] in ("departments", "opens_at", "closes_at")
        },
        "archived": N_("Send true (archive) or false (back to the list)."),
    }


class NextRoundIn(Strict):
    """The next round of a survey: a draft copy with a title and an address of its own."""

    title: Annotated[str, Field(max_length=200, pattern=r"\S")] | None = Field(None, description="default: the same")
    slug: Annotated[str, Field(max_length=64, pattern=SLUG_PATTERN)] | None = Field(
        None, description="the new round's address; made from the title when left out"
    )

    messages: ClassVar[dict[str, str]] = {key: SurveyIn.messages[key] for key in ("title", "slug")}


# --- Responses ----------------------------------------------------------------------------------


def answers_context(instrument: Any, max_comment: int, followup: bool = False) -> dict:
    """Return the validation context that checks answers against one survey's instrument.

    `followup`: the survey asks the follow-up statement (survey/followup.py).
    """
    return {
        "items": {item.id for item in instrument.items},
        "enps": instrument.enps is not None,
        "comment": instrument.comment is not None,
        "max_comment": max_comment,
        "followup": followup,
    }


def _known_item(item_id: str, info: ValidationInfo) -> str:
    items = (info.context or {}).get("items")
    if items is not None and item_id not in items:
        raise rule("Unknown item id; see the survey's instrument for valid ids.")
    return item_id


class AnswersIn(Strict):
    """What a respondent answers; the validation context (answers_context) names the survey's items."""

    answers: dict[Annotated[str, AfterValidator(_known_item)], Annotated[int, Field(ge=1, le=5)] | None] = Field(
        description="item id -> 1..5, or null for 'not applicable' (kept apart from a skipped item, which is "
        "left out); ids from GET /surveys/{slug}"
    )
    enps: Annotated[int, Field(ge=0, le=10)] | None = Field(None, description="would you recommend us: 0..10")
    comment: str | None = Field(None, description="free text, at most MAX_COMMENT_LENGTH (5,000) characters")
    followup: Annotated[int, Field(ge=1, le=5)] | None = Field(
        None, description="the follow-up statement (1..5), when the survey asks it; never part of a level"
    )

    messages: ClassVar[dict[str, str]] = {
        "answers": N_("Send answers as an object of item id to a whole number 1-5 (or null)."),
        "answers.*": N_("Answer with a whole number from 1 to 5, or null for not applicable."),
        "enps": N_("Answer with a whole number from 0 to 10, or leave it out."),
        "comment": N_("The comment must be text."),
        "followup": N_("Answer the follow-up statement with a whole number from 1 to 5, or leave it out."),
    }

    @field_validator("followup", mode="before")
    @classmethod
    def _survey_asks_followup(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and not (info.context or {}).get("followup"):
            raise rule("This survey has no follow-up statement.")
        return value

    @field_validator("answers")
    @classmethod
    def _at_least_one(cls, answers: dict[str, int | None]) -> dict[str, int | None]:
        if all(value is None for value in answers.values()):
            raise rule("Answer at least one item with a value from 1 to 5.")
        return answers

    @field_validator("enps", mode="before")
    @classmethod
    def _survey_asks_enps(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and (info.context or {}).get("enps") is False:
            raise rule("This survey has no recommendation (eNPS) question.")
        return value

    @field_validator("comment", mode="before")
    @classmethod
    def _survey_takes_comments(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and (info.context or {}).get("comment") is False:
            raise rule("This survey takes no comments.")
        return value

    @field_validator("comment")
    @classmethod
    def _comment_fits(cls, value: str | None, info: ValidationInfo) -> str | None:
        limit = (info.context or {}).get("max_comment")
        if value is not None and limit is not None and len(value) > limit:
            raise rule(
                "Shorten the comment to at most {limit} characters (it has {length}).",
                limit=number(limit),
                length=number(len(value)),
            )
        if value is not None and "\x00" in value:
            raise rule("The comment contains a NUL character; remove it.")
        return value


class ResponseIn(AnswersIn):
    """A response to the JSON API: the answers, with a department code (open link) or an invitation token."""

    department: Code | None = Field(None, description="the respondent's department (open link)")
    invitation: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="a personal invitation token, instead of department"
    )

    messages: ClassVar[dict[str, str]] = {
        **AnswersIn.messages,
        "department": N_("Unknown department code; see GET /surveys/<slug>."),
        "invitation": N_("Unknown invitation token for this survey."),
    }

    @model_validator(mode="after")
    def _department_or_invitation(self) -> ResponseIn:
        if self.invitation is not None and self.department is not None:
            raise rule("Leave out the department when using an invitation.", field="department")
        if self.invitation is None and self.department is None:
            raise rule("Choose your department.", field="department")
        return self


def _questionnaire_item(item_id: str, info: ValidationInfo) -> str:
    items = (info.context or {}).get("items")
    if items is not None and item_id not in items:
        raise rule("Unknown item id; the questionnaire's ids are {ids}.", ids=", ".join(items))
    return item_id


class SelfAssessmentIn(Strict):
    """The self-assessment on its own: answers to the statements of questions.yaml, and the language of the texts."""

    answers: dict[Annotated[str, AfterValidator(_questionnaire_item)], Annotated[int, Field(ge=1, le=5)] | None] = (
        Field(description="item id (obs1 ... lea4) -> 1..5, or null for 'not applicable'")
    )
    language: Literal["nb", "nn", "en"] = Field("nb", description="language of the next steps (default nb)")

    messages: ClassVar[dict[str, str]] = {
        "answers": "Send answers as an object of item id to a whole number 1-5 (or null).",
        "answers.*": "Answer with a whole number from 1 to 5, or null for not applicable.",
        "language": "Choose the language 'nb' (Norwegian bokmål), 'nn' (Norwegian nynorsk) or 'en' (English).",
    }

    @field_validator("answers")
    @classmethod
    def _at_least_one(cls, answers: dict[str, int | None]) -> dict[str, int | None]:
        if all(value is None for value in answers.values()):
            raise rule("Answer at least one item with a value from 1 to 5.")
        return answers


# --- Query parameters -----------------------------------------------------------------------------


class ResultsQuery(Query):
    """?department=CODE: one department's own results instead of the organisation's."""

    department: Annotated[str, Field(pattern=r"\S")] | None = None

    messages: ClassVar[dict[str, str]] = {
        **Query.messages,
        "department": N_("Give a department code, e.g. ?department=OPS, or leave the parameter out."),
    }


def _whole_number(value: object) -> object:
    # Query parameters are text: "2" is the number 2 (anything else fails as a number would).
    if value == "":
        return None
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else value


MAX_PER_PAGE = 500


class CompareQuery(Query):
    """Which units to compare, in what order, a page at a time."""

    sort: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="a level id (by its score), 'index', 'n' (answers) or 'name'"
    )
    order: Annotated[Literal["asc", "desc"] | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="default: highest first for numbers, A-Z for names"
    )
    # The pattern belongs to the text alone: on "str | None" pydantic would apply it to the None an
    # empty ?parent= becomes, and fail with a TypeError instead of a validation error.
    parent: Annotated[
        Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,31})$")] | None,
        BeforeValidator(_blank_is_none),
    ] = Field(None, description="only the units directly below this unit's code; '*' for the top-level units")
    page: Annotated[int, BeforeValidator(_whole_number), Field(ge=1)] | None = Field(None, description="from 1")
    per_page: Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=MAX_PER_PAGE)] | None = Field(
        None, description=f"units a page, 1-{MAX_PER_PAGE} (default 100)"
    )

    messages: ClassVar[dict[str, str]] = {
        **Query.messages,
        "sort": "Sort by a level id, 'index', 'n' or 'name'.",
        "order": "Choose the order 'asc' or 'desc'.",
        "parent": "Give a unit's code, e.g. ?parent=OPS, or '*' for the top-level units.",
        "page": "Give the page as a whole number from 1.",
        "per_page": f"Give the page size as a whole number from 1 to {MAX_PER_PAGE}.",
    }

    @field_validator("sort")
    @classmethod
    def _known_level(cls, value: str | None, info: ValidationInfo) -> str | None:
        levels = (info.context or {}).get("levels")
        if value is not None and levels is not None and value not in levels:
            raise rule("Sort by a level id ({levels}), 'index', 'n' or 'name'.", levels=", ".join(levels))
        return value


class ReportQuery(Query):
    """?department=CODE&lang=nb|nn|en: whose report, in which language (default: the survey's)."""

    department: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    lang: Annotated[Literal["nb", "nn", "en"] | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="default: the survey's language"
    )

    messages: ClassVar[dict[str, str]] = {
        **Query.messages,
        "department": N_("Give a department code, e.g. ?department=OPS, or leave the parameter out."),
        "lang": N_("Choose the report language 'nb', 'nn' or 'en'."),
    }


# --- Errors -------------------------------------------------------------------------------------


def _pattern(loc: tuple) -> list[str]:
    return ["*" if isinstance(part, int) else str(part) for part in loc if part != "[key]"]


def _matches(key: str, parts: list[str]) -> bool:
    wanted = key.split(".")
    return len(wanted) == len(parts) and all(w in ("*", p) for w, p in zip(wanted, parts, strict=True))


def _lookup(messages: Mapping[str, str], parts: list[str], error_type: str) -> str | None:
    # The most specific entry wins: fewest wildcards, then one for this error type over one for any.
    found = [
        (key.count("*"), 0 if suffix else 1, text)
        for entry, text in messages.items()
        for key, _, suffix in [entry.partition(":")]
        if (not suffix or suffix == error_type) and _matches(key, parts)
    ]
    return min(found)[2] if found else None


def field_errors(exc: ValidationError, model: type[BaseModel]) -> dict[str, str]:
    """Turn a ValidationError into {field: message}, the first message per field, in the model's own words.

    A field inside a list is reported on the list ("departments", "Department 2: ..."); one inside
    an object of free keys keeps its key ("answers.obs1").
    """
    messages = model.messages  # type: ignore[attr-defined]
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        ctx = error.get("ctx") or {}
        cut = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
        key = ctx.get("field") or ".".join(str(part) for part in loc[:cut] if part != "[key]")
        if key in fields:
            continue
        if error["type"] == RULE:
            fields[key] = error["msg"]
            continue
        values = {"n": loc[cut] + 1 if cut < len(loc) else "", "name": loc[-1] if loc else ""}
        text = _lookup(messages, _pattern(loc), error["type"])
        if text is None and error["type"] == "extra_forbidden":
            text = N_("Unknown field; remove it.")
        fields[key] = message_text(text or GENERIC, **values)
    return fields


def message_text(text: str, **values: object) -> str:
    """Translate a text of a `messages` table and fill its placeholders (numbers in the reader's convention)."""
    bounds_values = {"max_k": number(MAX_K), "max_headcount": number(MAX_HEADCOUNT)}
    return gettext(text) % {**bounds_values, **values}


def first_message(fields: Mapping[str, str]) -> str:
    """Return the first message of field errors (for a page or a 400 that shows one line)."""
    return next(iter(fields.values()), gettext(GENERIC))


def bounds(model: type[BaseModel], name: str) -> tuple[int | None, int | None]:
    """Return (least, most) a field allows, as its JSON schema states it: a number's range or a text's length."""
    schema = model.model_json_schema()["properties"][name]
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "integer":
            return option.get("minimum"), option.get("maximum")
        if option.get("type") == "string":
            return option.get("minLength"), option.get("maxLength")
    raise LookupError(f"{model.__name__}.{name} has no bounds")


# --- Action plans ---------------------------------------------------------------------------------

LEVEL_IDS = ("observing", "following", "endorsing", "contributing", "owning", "leading")  # questionnaire.LEVEL_IDS
ACTION_THEMES = ("goals", "roles", "means", "follow_up", "anchoring", "freedom")  # questionnaire.THEMES
ACTION_STATUSES = ("planned", "in_progress", "done", "dropped")
MAX_ACTION_TITLE = 300
MAX_OWNER = 120
MAX_NOTE = 2000
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

LevelId = Literal["observing", "following", "endorsing", "contributing", "owning", "leading"]
Theme = Literal["goals", "roles", "means", "follow_up", "anchoring", "freedom"]
ActionStatus = Literal["planned", "in_progress", "done", "dropped"]


def _plain_text(value: str) -> str:
    # Control characters (a NUL, an escape) have no place in a title, a name or a note; line breaks
    # and tabs do in a note.
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise rule("Remove the control characters from the text.")
    return value


def _real_date(value: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise rule("'{value}' is not a date in the calendar; write YYYY-MM-DD.", value=value) from None
    return value


def _known_department(code: str, info: ValidationInfo) -> str:
    known = (info.context or {}).get("departments")
    if known is not None and code.lower() not in known:
        raise rule("Unknown department code; see GET /surveys/<slug> for the codes.")
    return code


Title = Annotated[str, Field(min_length=1, max_length=MAX_ACTION_TITLE, pattern=r"\S"), AfterValidator(_plain_text)]
Owner = Annotated[str, Field(min_length=1, max_length=MAX_OWNER, pattern=r"\S"), AfterValidator(_plain_text)]
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
Due = Annotated[str, Field(pattern=DATE_PATTERN, description="YYYY-MM-DD"), AfterValidator(_real_date)]
Note = Annotated[str, Field(min_length=1, max_length=MAX_NOTE, pattern=r"\S"), AfterValidator(_plain_text)]
ActionDepartment = Annotated[Code, AfterValidator(_known_department)]

ACTION_MESSAGES = {
    "level": "Choose a level: " + ", ".join(LEVEL_IDS) + ".",
    "theme": "Choose a theme: " + ", ".join(ACTION_THEMES) + ".",
    "title": f"Give the action a title of 1-{MAX_ACTION_TITLE} characters.",
    "title:string_too_long": f"Keep the title to at most {MAX_ACTION_TITLE} characters.",
    "department": "Give the code of one of the survey's departments, or leave it out for the whole organisation.",
    "owner": f"Give the owner as a name or a role of at most {MAX_OWNER} characters, or leave it out.",
    "owner_email": "Give the owner's e-mail address (name@example.org), or leave it out.",
    "due": "Give the due date as YYYY-MM-DD, or leave it out.",
    "status": "Choose a status: " + ", ".join(ACTION_STATUSES) + ".",
    "note": f"Write the progress note in 1-{MAX_NOTE:,} characters.",
}


class ActionIn(Strict):
    """A new action of a survey's action plan; without department it is the whole organisation's."""

    level: LevelId = Field(description="the pyramid level the action works on")
    theme: Theme = Field(description="the part of the strategy it serves")
    title: Title
    department: ActionDepartment | None = Field(None, description="a department code of the survey")
    owner: Owner | None = Field(None, description="a name or a role")
    owner_email: Email | None = Field(None, description="where `actions remind` sends reminders")
    due: Due | None = None
    status: ActionStatus = "planned"
    note: Note | None = Field(None, description="a first progress note")

    messages: ClassVar[dict[str, str]] = ACTION_MESSAGES


def _no_default(schema: dict) -> None:
    # A field that may be left out but never sent as null: its schema must not claim a null default.
    schema.pop("default", None)


def _optional(description: str | None = None) -> Any:
    """Return a field that may be left out, but not sent as null."""
    return Field(None, description=description, json_schema_extra=_no_default)


class ActionPatch(Strict):
    """Changes to an action: only the fields sent change; null clears department, owner, e-mail or due date."""

    level: LevelId = _optional("the pyramid level the action works on")
    theme: Theme = _optional()
    title: Title = _optional()
    department: ActionDepartment | None = Field(None, description="null: the whole organisation")
    owner: Owner | None = None
    owner_email: Email | None = None
    due: Due | None = None
    status: ActionStatus = _optional()
    note: Note = _optional("a progress note added to the action's history")

    messages: ClassVar[dict[str, str]] = ACTION_MESSAGES

    @model_validator(mode="after")
    def _something_to_change(self) -> ActionPatch:
        if not self.model_fields_set:
            raise rule("Send at least one field to change.", field="body")
        return self


class ActionsQuery(Query):
    """?status=...&department=CODE: only some of the actions."""

    # A blank parameter is refused (not read as "no filter"): a filter someone meant to set must not pass unseen.
    status: ActionStatus | None = None
    department: Annotated[str, Field(pattern=r"\S", max_length=64)] | None = Field(
        None, description="a department code, or 'organisation' for the actions of the whole organisation"
    )

    messages: ClassVar[dict[str, str]] = {
        **Query.messages,
        "status": "Filter by a status: " + ", ".join(ACTION_STATUSES) + ".",
        "department": "Filter by a department code, or 'organisation'.",
    }
