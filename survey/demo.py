"""Synthetic demo data: a survey with departments of different sizes and realistic answers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import numpy as np
from sqlite_utils import Database

from .db import NOT_APPLICABLE, write_transaction
from .questionnaire import Instrument
from .responses import MAX_RESPONSE_ID
from .surveys import Survey, create_survey

DEPARTMENTS = [
    # code, name (nb), name (en), share of responses, engagement offset, name (nn)
    ("OPS", "Drift", "Operations", 0.17, -0.15, "Drift"),
    ("SALES", "Salg", "Sales", 0.14, 0.20, "Sal"),
    ("CS", "Kundeservice", "Customer service", 0.12, -0.30, "Kundeservice"),
    ("DEV", "Utvikling", "Development", 0.11, 0.30, "Utvikling"),
    ("LOG", "Logistikk", "Logistics", 0.10, -0.45, "Logistikk"),
    ("FIN", "Økonomi", "Finance", 0.08, 0.05, "Økonomi"),
    ("MKT", "Markedsføring", "Marketing", 0.07, 0.35, "Marknadsføring"),
    ("HR", "HR", "HR", 0.06, 0.25, "HR"),
    ("IT", "IT", "IT", 0.06, 0.00, "IT"),
    ("PROC", "Innkjøp", "Procurement", 0.05, -0.10, "Innkjøp"),
    ("LEGAL", "Juridisk", "Legal", 0.04, 0.10, "Juridisk"),
    ("BOARD", "Ledelsessekretariat", "Executive office", 0.0, 0.50, "Leiarsekretariatet"),  # stays below the threshold
]
NAME_COLUMN = {"nb": 1, "en": 2, "nn": 5}
# The demo survey's own content (titles, what synthetic respondents wrote), in each language.
TITLES = {
    "nb": ("Engasjementsundersøkelse (demo)", "Engasjementsundersøkelse i fjor (demo)"),
    "nn": ("Engasjementsundersøking (demo)", "Engasjementsundersøking i fjor (demo)"),
    "en": ("Engagement survey (demo)", "Engagement survey last year (demo)"),
}
SMALL_DEPARTMENT_RESPONSES = 3
# Higher levels of the pyramid are harder to reach: fewer people own and lead.
LEVEL_DIFFICULTY = np.array([-0.9, -0.5, -0.1, 0.35, 0.75, 1.1])
COMMENTS = {
    "nb": [
        "Jeg setter pris på at ledelsen deler planene tidlig.",
        "Vi trenger mer tid til forbedringsarbeid i hverdagen.",
        "Flere muligheter til å lære av andre avdelinger hadde vært fint.",
        "Informasjonen kommer ofte for sent til oss som jobber turnus.",
        "Godt samhold i teamet, men uklart hvem som bestemmer hva.",
    ],
    "nn": [
        "Eg set pris på at leiinga deler planane tidleg.",
        "Me treng meir tid til forbetringsarbeid i kvardagen.",
        "Fleire høve til å lære av andre avdelingar hadde vore fint.",
        "Informasjonen kjem ofte for seint til oss som jobbar turnus.",
        "Godt samhald i teamet, men uklart kven som bestemmer kva.",
    ],
    "en": [
        "I appreciate that management shares its plans early.",
        "We need more time for improvement work in our daily routine.",
        "More chances to learn from other departments would be good.",
        "Information often reaches those of us on shifts too late.",
        "Strong team spirit, but unclear who decides what.",
    ],
}


def allocate(n: int) -> list[int]:
    """Split n responses over the departments: the last one gets a few, below any threshold."""
    small = min(SMALL_DEPARTMENT_RESPONSES, n)
    rest = n - small
    shares = np.array([d[3] for d in DEPARTMENTS[:-1]])
    counts = np.floor(rest * shares / shares.sum()).astype(int)
    counts[0] += rest - counts.sum()
    return [int(c) for c in counts] + [small]


def fresh_ids(db: Database, rng: np.random.Generator, size: int) -> list[int]:
    """Draw `size` random response ids that are not in use, like the ones real responses get."""
    while True:
        ids = [int(i) for i in rng.integers(1, MAX_RESPONSE_ID, size=size, endpoint=True)]
        taken = db.execute(
            "SELECT COUNT(*) FROM responses WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(ids)]
        ).fetchone()[0]
        if len(set(ids)) == size and not taken:
            return ids


def generate(
    db: Database,
    instrument: Instrument,
    responses: int = 300,
    seed: int = 1,
    language: str = "nb",
    slug: str = "demo",
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    previous: str | None = None,
    shift: float = 0.0,
    title: str | None = None,
) -> Survey:
    """Create survey `slug` with departments and `responses` synthetic answers, written in batches.

    `previous` makes it the next round of that survey; `shift` moves everyone's engagement (an
    earlier round with a negative shift shows improvement in the trend).
    """
    rng = np.random.default_rng(seed)
    counts = allocate(responses)
    name_col = NAME_COLUMN[language]
    depts = [
        {"code": d[0], "name": d[name_col], "headcount": int(np.ceil(c / 0.78)) + 1 if c else 4}
        for d, c in zip(DEPARTMENTS, counts, strict=True)
    ]
    if title is None:
        title = TITLES[language][0]
    survey = create_survey(
        db, instrument, title=title, language=language, departments=depts, slug=slug, previous=previous
    )
    dept_ids = {
        r["code"]: r["id"] for r in db.query("SELECT id, code FROM departments WHERE survey_id = ?", [survey.id])
    }
    items = instrument.items
    level_index = np.array([[lv.id for lv in instrument.levels].index(it.level) for it in items])
    reverse = np.array([it.reverse for it in items])
    dept_of = np.repeat(np.arange(len(DEPARTMENTS)), counts)
    rng.shuffle(dept_of)
    # Ids come from their own stream, so the answers stay those of earlier versions of a seed.
    id_rng = np.random.default_rng([seed, 1])
    # Which of the unanswered statements were "not applicable" rather than skipped: a stream of its own too.
    na_rng = np.random.default_rng([seed, 2])
    today = dt.date.today()
    comments = COMMENTS[language]
    for lo in range(0, responses, batch):
        hi = min(responses, lo + batch)
        size = hi - lo
        d = dept_of[lo:hi]
        offsets = np.array([DEPARTMENTS[i][4] for i in d])
        latent = rng.normal(offsets + shift, 0.75)[:, None]
        raw = 3.6 + latent - LEVEL_DIFFICULTY[level_index][None, :] + rng.normal(0, 0.65, (size, len(items)))
        values = np.clip(np.rint(raw), 1, 5).astype(int)
        values[:, reverse] = 6 - values[:, reverse]
        # Some items are skipped or "not applicable", more often near the top of the pyramid.
        skipped = rng.random((size, len(items))) < (0.02 + 0.01 * level_index)[None, :]
        enps = np.clip(np.rint(7 + 1.8 * latent[:, 0] + rng.normal(0, 1.4, size)), 0, 10).astype(int)
        enps_answered = rng.random(size) < 0.85
        has_comment = rng.random(size) < 0.08
        days = rng.integers(0, 14, size)
        ids = fresh_ids(db, id_rng, size)
        na = na_rng.random((size, len(items))) < 0.5
        rows = []
        answer_rows = []
        for j in range(size):
            rid = ids[j]
            rows.append(
                (
                    rid,
                    survey.id,
                    dept_ids[DEPARTMENTS[d[j]][0]],
                    (today - dt.timedelta(days=int(days[j]))).isoformat(),
                    int(enps[j]) if enps_answered[j] else None,
                    comments[int(rng.integers(len(comments)))] if has_comment[j] else None,
                )
            )
            answer_rows.extend((rid, c, int(values[j, c])) for c in range(len(items)) if not skipped[j, c])
            answer_rows.extend((rid, c, NOT_APPLICABLE) for c in range(len(items)) if skipped[j, c] and na[j, c])
        with write_transaction(db):
            db.conn.executemany(
                "INSERT INTO responses (id, survey_id, department_id, submitted_on, enps, comment) "
                "VALUES (?,?,?,?,?,?)",
                rows,
            )
            db.conn.executemany("INSERT INTO answers (response_id, item, value) VALUES (?,?,?)", answer_rows)
        if progress:
            progress(size)
    return survey


UNIT_NAMES = {
    "nb": ("Divisjon {0}", "Avdeling {0}.{1}", "Team {0}.{1}.{2}"),
    "nn": ("Divisjon {0}", "Avdeling {0}.{1}", "Team {0}.{1}.{2}"),
    "en": ("Division {0}", "Department {0}.{1}", "Team {0}.{1}.{2}"),
}


def unit_tree(units: int, language: str = "nb") -> list[dict]:
    """Return `units` units in three levels (divisions, departments, teams), parents before children."""
    if units < 3:
        raise ValueError("a demo hierarchy needs at least 3 units")
    n_div = max(1, round(units / 62))
    n_dep = max(n_div, round(units / 9))
    n_team = units - n_div - n_dep
    names = UNIT_NAMES.get(language, UNIT_NAMES["en"])
    divisions = [{"code": f"V{i + 1}", "name": names[0].format(i + 1)} for i in range(n_div)]
    departments, teams = [], []
    for j in range(n_dep):
        div = j % n_div
        number = j // n_div + 1
        departments.append(
            {"code": f"V{div + 1}-{number}", "name": names[1].format(div + 1, number), "parent": f"V{div + 1}"}
        )
    for t in range(n_team):
        dep = departments[t % n_dep]
        number = t // n_dep + 1
        path = dep["code"][1:].split("-")
        teams.append({"code": f"{dep['code']}-{number}", "name": names[2].format(*path, number), "parent": dep["code"]})
    out = []
    for div in divisions:
        out.append(div)
        for dep in (d for d in departments if d["parent"] == div["code"]):
            out.append(dep)
            out.extend(t for t in teams if t["parent"] == dep["code"])
    return out


def spread_over_units(db: Database, survey: Survey, units: int, seed: int = 1) -> None:
    """Replace the survey's departments by a hierarchy of `units` units and spread the same responses over it.

    Responses of one old department go to one division, so that divisions differ as the
    departments did. Within a division, teams of very different sizes (some below any
    threshold) take most answers; some people answer for a department or division itself.
    """
    rng = np.random.default_rng([seed, 17])
    tree = unit_tree(units, survey.language)
    old = [r["id"] for r in db.query("SELECT id FROM departments WHERE survey_id = ? ORDER BY position", [survey.id])]
    with write_transaction(db):
        start = len(old)
        db["departments"].insert_all(
            {"survey_id": survey.id, "code": u["code"], "name": u["name"], "position": start + n}
            for n, u in enumerate(tree)
        )
        ids = {
            r["code"]: r["id"]
            for r in db.query(
                "SELECT id, code FROM departments WHERE survey_id = ? AND position >= ?", [survey.id, start]
            )
        }
        db.conn.executemany(
            "UPDATE departments SET parent_id = ? WHERE id = ?",
            [(ids[u["parent"]], ids[u["code"]]) for u in tree if u.get("parent")],
        )
        divisions = [u["code"] for u in tree if not u.get("parent")]
        members: dict[str, list[tuple[int, float]]] = {code: [] for code in divisions}
        for u in tree:
            top = u["code"].split("-")[0]
            depth = u["code"].count("-")
            # Teams: sizes spread widely (lognormal); departments and divisions: a few people of their own.
            weight = rng.lognormal(0.0, 1.1) if depth == 2 else (0.35 if depth == 1 else 0.6)
            members[top].append((ids[u["code"]], weight))
        rows = db.execute(
            "SELECT id, department_id FROM responses WHERE survey_id = ? ORDER BY id", [survey.id]
        ).fetchall()
        position = {dept_id: n for n, dept_id in enumerate(old)}
        division_of = np.array([position.get(dept_id, 0) % len(divisions) for _, dept_id in rows], dtype=int)
        target = np.zeros(len(rows), dtype=np.int64)
        for n, division in enumerate(divisions):
            unit_ids, weights = zip(*members[division], strict=True)
            chosen = division_of == n
            target[chosen] = rng.choice(unit_ids, size=int(chosen.sum()), p=np.array(weights) / sum(weights))
        moves = [(int(unit), response_id) for unit, (response_id, _) in zip(target, rows, strict=True)]
        db.conn.executemany("UPDATE responses SET department_id = ? WHERE id = ?", moves)
        marks = ",".join("?" * len(old))
        db.execute(
            f"UPDATE invitations SET department_id = ? WHERE department_id IN ({marks})",  # noqa: S608
            [ids[divisions[0]], *old],
        )
        db.execute(f"DELETE FROM departments WHERE id IN ({marks})", old)  # noqa: S608


def previous_title(language: str) -> str:
    """Return the title of the demo's earlier round."""
    return TITLES[language][1]


def backdate(db: Database, survey: Survey, days: int) -> None:
    """Move a demo survey and its responses `days` back in time and close it (an earlier round)."""
    shift = f"-{int(days)} days"
    with write_transaction(db):
        db.execute(
            "UPDATE surveys SET status = 'closed', created_on = date(created_on, ?), opens_at = date(created_on, ?), "
            "closed_on = date('now', ?, '+14 days') WHERE id = ?",
            [shift, shift, shift, survey.id],
        )
        db.execute("UPDATE responses SET submitted_on = date(submitted_on, ?) WHERE survey_id = ?", [shift, survey.id])


def open_survey(db: Database, instrument: Instrument, language: str = "nb") -> Survey:
    """Create the open demo survey 'demo-open' (no answers yet), for trying the questionnaire."""
    title = {
        "nb": "Prøv spørreskjemaet (demo)",
        "nn": "Prøv spørjeskjemaet (demo)",
        "en": "Try the questionnaire (demo)",
    }
    name_col = NAME_COLUMN[language]
    depts = [{"code": d[0], "name": d[name_col]} for d in DEPARTMENTS[:6]]
    return create_survey(db, instrument, title=title[language], language=language, departments=depts, slug="demo-open")
