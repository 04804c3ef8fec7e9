"""The presentation: closed surveys only, the survey's language, hidden groups hidden on every slide."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import close_survey

from survey import surveys
from survey.db import get_db
from survey.responses import Submission, save_response


def fill(app, counts: dict[str, int], slug: str = "acme") -> None:
    rng = np.random.default_rng(11)
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, slug)
        for code, n in counts.items():
            dept = surveys.department_by_code(db, survey, code)
            for _ in range(n):
                answers = {it.id: int(np.clip(round(rng.normal(3.3, 0.9)), 1, 5)) for it in survey.instrument.items}
                save_response(db, survey, Submission(dept.id, answers, None, None))


def test_only_closed_surveys_are_presented(app, fac_client):
    fill(app, {"A": 12, "B": 10, "C": 8})
    for path in ("/admin/surveys/acme/present", "/admin/surveys/acme/present/setup"):
        resp = fac_client.get(path)
        assert resp.status_code == 409 and "released when the survey closes" in resp.get_data(as_text=True)
    with app.app_context():
        assert surveys.get_survey(get_db(), "acme").results_read_on is None


def test_a_hidden_department_is_hidden_on_every_slide(app, fac_client, instrument):
    fill(app, {"A": 14, "B": 9, "C": 2})  # C: too few; B: hidden so that C cannot be worked out
    close_survey(app)
    html = fac_client.get("/admin/surveys/acme/present?d=B&d=C&d=A").get_data(as_text=True)
    # The radar takes only shown departments.
    assert 'id="t-radar">The six levels: the organisation and Alpha &amp; &lt;Omega&gt;</h2>' in html
    checked = 0
    for slide in re.findall(r'<section class="slide[^"]*" id="(slide-[a-z-]+)"', html):
        body = html.split(f'id="{slide}"')[1].split("</section>")[0]
        for name in ("Beta", "Gamma"):
            for row in re.findall(rf"<tr><th scope=\"row\">{name}</th>(.*?)</tr>", body, re.S):
                assert "hidden" in row and not re.search(r">\s*\d+( %)?\s*<", row), (slide, name, row)
                checked += 1
    assert checked == 2 * 7  # departments x levels, and each level's statements
    assert "Beta:" not in html.split('id="slide-differences"')[1].split("</section>")[0]


def test_the_deck_speaks_the_surveys_language(app, fac_client, instrument):
    with app.app_context():
        db = get_db()
        depts = [{"code": "A", "name": "Alfa"}, {"code": "B", "name": "Beta"}]
        surveys.create_survey(db, instrument, title="Nynorsk", language="nn", departments=depts, slug="nn")
    fill(app, {"A": 8, "B": 8}, slug="nn")
    close_survey(app, "nn")
    html = fac_client.get("/admin/surveys/nn/present").get_data(as_text=True)
    assert '<html lang="nn">' in html
    level = instrument.level("following")
    assert level.name["nn"] in html and level.prompts["nn"][0] in html and level.description["nn"] in html
    assert level.prompts["en"][0] not in html
    assert "fac@example.org" not in html and "Log out" not in html


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_level_slides_carry_the_advice_of_the_band(app, fac_client, instrument, lang):
    with app.app_context():
        db = get_db()
        db.execute("UPDATE surveys SET language = ? WHERE slug = 'acme'", [lang])
        db.conn.commit()
    fill(app, {"A": 12, "B": 10, "C": 8})
    close_survey(app)
    html = fac_client.get("/admin/surveys/acme/present").get_data(as_text=True)
    slide = html.split('id="slide-level-owning"')[1].split("</section>")[0]
    titles = re.findall(r'<input type="hidden" name="title" value="([^"]*)">', slide)
    advice = {a.text[lang] for rec in instrument.level("owning").recommendations.values() for a in rec.actions}
    assert titles and all(t.replace("&#39;", "'").replace("&amp;", "&") in advice for t in titles)
    assert "#slide-level-owning" in slide  # the form comes back to this slide
