"""Links, QR codes and handouts: built from FLASK_BASE_URL, never from the request's Host header."""

from __future__ import annotations

import re

import pytest
from helpers import BASE_URL, HR_EMAIL, HR_PASSWORD, csrf_token, login

from survey import links, qr


@pytest.mark.parametrize(
    ("fmt", "mimetype", "magic"),
    [("png", "image/png", b"\x89PNG\r\n\x1a\n"), ("svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"')],
)
@pytest.mark.parametrize(("query", "link"), [("", f"{BASE_URL}/s/acme"), ("?d=B", f"{BASE_URL}/s/acme?d=B")])
def test_qr_codes(hr_client, fmt, mimetype, magic, query, link):
    resp = hr_client.get(f"/admin/surveys/acme/qr.{fmt}{query}")
    assert resp.status_code == 200 and resp.mimetype == mimetype
    assert resp.data.startswith(magic)
    # The image encodes exactly the public link (segno is deterministic for one input).
    assert resp.data == qr.qr_code(link, fmt, title=link)
    assert "Content-Disposition" not in resp.headers
    download = hr_client.get(f"/admin/surveys/acme/qr.{fmt}{query}{'&' if query else '?'}download=1")
    name = f"acme{'-B' if query else ''}-qr.{fmt}"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/admin/surveys/acme/qr.gif", 404),
        ("/admin/surveys/acme/qr.png?d=NOPE", 404),
        ("/admin/surveys/nope/qr.png", 404),
        ("/admin/surveys/acme/handout?d=NOPE", 404),
    ],
)
def test_qr_and_handout_errors(hr_client, path, status):
    assert hr_client.get(path).status_code == status


def test_qr_and_handout_need_hr(client, fac_client):
    assert client.get("/admin/surveys/acme/qr.png").status_code == 302
    assert fac_client.get("/admin/surveys/acme/qr.png").status_code == 403
    assert fac_client.get("/admin/surveys/acme/handout?d=A").status_code == 403


def test_handout_per_department(hr_client):
    resp = hr_client.get("/admin/surveys/acme/handout?d=A")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f"{BASE_URL}/s/acme?d=A" in page
    assert 'src="/admin/surveys/acme/qr.svg?d=A"' in page
    assert "For the department Alpha &amp; &lt;Omega&gt;" in page  # escaped
    assert "Acme 2026" in page and "at least 5 answers" in page
    assert "css/handout.css" in page and "FLASK_BASE_URL" not in page
    nb = hr_client.get("/admin/surveys/acme/handout?d=A&language=nb").get_data(as_text=True)
    assert '<html lang="nb">' in nb and "Svarene dine er konfidensielle" in nb
    # The handout's language does not change the HR user's own choice.
    assert '<html lang="en">' in hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    open_link = hr_client.get("/admin/surveys/acme/handout").get_data(as_text=True)
    printed = re.sub(r"<[^>]+>", "", open_link.split('<p class="link">')[1].split("</p>")[0])
    assert printed == f"{BASE_URL}/s/acme" and "For the department" not in open_link
    # The link may break after a slash, never inside the department code.
    assert '<wbr><span class="code">?d=A</span>' in page


def test_survey_page_links_to_qr_codes_and_handouts(hr_client):
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    for code in ("A", "B", "C"):
        assert f"/admin/surveys/acme/handout?d={code}" in page
        assert f"/admin/surveys/acme/qr.svg?d={code}&amp;download=1" in page
    assert "/admin/surveys/acme/invitations" in page


def test_links_never_come_from_the_host_header(app):
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"
    assert login(client).status_code == 302
    page = client.get("/admin/surveys/acme").get_data(as_text=True)
    assert "evil.example" not in page and f"{BASE_URL}/s/acme?d=B" in page
    handout = client.get("/admin/surveys/acme/handout?d=B").get_data(as_text=True)
    assert "evil.example" not in handout


def test_without_base_url_links_use_the_default_and_hr_is_warned(make_app):
    app = make_app(BASE_URL="")
    from survey import accounts, surveys
    from survey.db import get_db

    with app.app_context():
        accounts.create_user(get_db(), HR_EMAIL, HR_PASSWORD, "hr")
        surveys.create_survey(get_db(), app.extensions["instrument"], "T", "en", [{"code": "A", "name": "A"}], "t")
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "intranet.example"
    assert login(client).status_code == 302
    page = client.get("/admin/surveys/t").get_data(as_text=True)
    assert "http://127.0.0.1:5000/s/t?d=A" in page and "intranet.example" not in page
    assert 'id="base-url-warning"' in page and "FLASK_BASE_URL" in page
    page = client.get("/admin/surveys/t/invitations").get_data(as_text=True)
    assert 'id="base-url-warning"' in page
    # Nothing is sent or downloaded with links nobody else can open.
    resp = client.post(
        "/admin/surveys/t/invitations/links.csv", data={"csrf_token": csrf_token(page), "kind": "invitation"}
    )
    assert resp.status_code == 409 and "Set FLASK_BASE_URL" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        ("https://survey.example.org/", "https://survey.example.org"),
        ("https://example.org/survey", "https://example.org/survey"),
        ("  http://10.0.0.5:8000  ", "http://10.0.0.5:8000"),
    ],
)
def test_base_url_is_checked(value, expected):
    assert links.check_base_url(value) == expected


@pytest.mark.parametrize("value", ["survey.example.org", "ftp://x.example", "https://", "https://x.example/?a=1"])
def test_a_wrong_base_url_stops_start_up(make_app, value):
    with pytest.raises(ValueError, match="FLASK_BASE_URL must be the public address"):
        make_app(BASE_URL=value)


def test_base_url_with_a_path_prefix(app):
    app.config["BASE_URL"] = "https://example.org/survey"
    with app.app_context():
        assert links.survey_link("acme", "B") == "https://example.org/survey/s/acme?d=B"
        assert links.invitation_link("tok") == "https://example.org/survey/i/tok"
