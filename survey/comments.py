"""Free-text comments: for HR only, from groups at or above the comment threshold, in random order, never dated.

A comment belongs to the smallest group its writer answered for (a unit without sub-units,
or the people who answered for a unit itself). Only groups that reach the comment threshold
on their own contribute to any list, the organisation's included: then no list minus another
isolates the comments of a group below the threshold.
"""

from __future__ import annotations

import random

from sqlite_utils import Database

from . import privacy
from .surveys import Survey, departments

_SHUFFLE = random.SystemRandom()


def visible_units(db: Database, survey: Survey) -> tuple[privacy.Tree, set, dict]:
    """Return the survey's tree, the department ids whose comments may be shown, and each node's subtree ids."""
    depts = departments(db, survey)
    tree = privacy.Tree.from_parents({d.code: d.parent for d in depts})
    counts = dict(
        db.execute(
            "SELECT department_id, COUNT(*) FROM responses WHERE survey_id = ? GROUP BY department_id", [survey.id]
        ).fetchall()
    )
    by_code = {d.code: d for d in depts}
    atom_count = {}
    atom_dept = {}
    for atom in tree.atoms():
        code = atom[1] if privacy.is_direct(atom) else atom
        atom_dept[atom] = by_code[code].id
        atom_count[atom] = counts.get(by_code[code].id, 0)
    shown_atoms = privacy.comment_atoms(tree, atom_count, survey.comment_min_group_size)
    below: dict = {}
    for node in tree.nodes_bottom_up():
        kids = tree.children.get(node, ())
        if not kids and node != privacy.ROOT:
            below[node] = {atom_dept[node]} if node in shown_atoms else set()
        else:
            below[node] = set().union(*(below[kid] for kid in kids)) if kids else set()
    return tree, {atom_dept[a] for a in shown_atoms}, below


def comments_for(db: Database, survey: Survey, department: str | None = None) -> list[str] | None:
    """Return the comments of the organisation (or of one unit and its sub-units) that may be shown, shuffled.

    Returns None when no group in it reaches the comment threshold (the page then says why).
    """
    _, _, below = visible_units(db, survey)
    node = (
        privacy.ROOT
        if department is None
        else next(
            (code for code in below if not privacy.is_direct(code) and str(code).lower() == department.lower()), None
        )
    )
    if node is None or not below.get(node):
        return None
    ids = sorted(below[node])
    marks = ",".join("?" * len(ids))
    texts = [
        row[0]
        for row in db.execute(
            f"SELECT comment FROM responses WHERE survey_id = ? AND department_id IN ({marks}) "  # noqa: S608
            "AND comment IS NOT NULL AND comment != ''",
            [survey.id, *ids],
        )
    ]
    # Random order (not the order of submission, which could point to a person); a system
    # source, so the order cannot be replayed from a seed.
    _SHUFFLE.shuffle(texts)
    return texts
