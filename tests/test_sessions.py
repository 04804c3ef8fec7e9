"""Sessions end on the server: logout, `users disable`, password changes; API tokens are listed and revoked."""

from __future__ import annotations

import time

import pytest
from helpers import FAC_EMAIL, FAC_PASSWORD, HR_EMAIL, HR_PASSWORD, close_survey, csrf_token, login

from survey import accounts, sessions
from survey.db import get_db


def saved_cookie(client) -> str:
    """Return the session cookie's value, as an attacker who copied it would hold it."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app, cookie: str):
    """Return a fresh client that sends only the saved cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_saved_before_logout_no_longer_works(app, hr_client, db):
    close_survey(app)
    cookie = saved_cookie(hr_client)
    assert replay(app, cookie).get("/admin/surveys/acme/export.csv").status_code in (200, 409)
    page = hr_client.get("/admin/").get_data(as_text=True)
    assert hr_client.post("/admin/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    # The same cookie, replayed after logout: the server no longer knows the session.
    for path in ("/admin/", "/admin/surveys/acme/export.csv", "/admin/surveys/acme/report.pdf"):
        response = replay(app, cookie).get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"], path
    assert db["login_sessions"].count == 0


def test_the_cookie_carries_a_random_id_and_the_database_only_its_hash(app, hr_client, db):
    (row,) = db.query("SELECT * FROM login_sessions")
    with hr_client.session_transaction() as session:
        sid = session[sessions.SESSION_KEY]
        assert "user_id" not in session
    assert len(sid) >= 40 and sid not in str(row)
    # An old-style cookie with only a user id (as before server-side sessions) logs nobody in.
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["user_id"] = row["user_id"]
    assert forged.get("/admin/").status_code == 302


def test_login_starts_a_new_session_each_time(app, client, db):
    assert login(client).status_code == 302
    first = saved_cookie(client)
    assert login(client).status_code == 302
    assert saved_cookie(client) != first
    assert replay(app, first).get("/admin/").status_code == 200  # another browser's session, still live
    assert db["login_sessions"].count == 2


def test_users_disable_ends_every_session_and_token_at_once(app, runner, db):
    browsers = [app.test_client() for _ in range(3)]
    for browser in browsers:
        assert login(browser, FAC_EMAIL, FAC_PASSWORD).status_code == 302
    with app.app_context():
        own = accounts.create_token(get_db(), "facilitator", "workshop laptop", owner=FAC_EMAIL)
        other = accounts.create_token(get_db(), "hr", "nightly sync")
    bearer = {"Authorization": f"Bearer {own}"}
    close_survey(app)
    assert app.test_client().get("/api/v1/surveys/acme/rate", headers=bearer).status_code == 200
    result = runner.invoke(args=["users", "disable", FAC_EMAIL])
    assert result.exit_code == 0, result.output
    assert "3 session(s) ended, 1 API token(s) revoked" in result.output
    for browser in browsers:
        assert browser.get("/admin/").status_code == 302
    assert app.test_client().get("/api/v1/surveys/acme/rate", headers=bearer).status_code == 401
    # Nor can the account sign in again; the right password gets the same answer as a wrong one.
    response = login(app.test_client(), FAC_EMAIL, FAC_PASSWORD)
    assert response.status_code == 401 and "The e-mail or password is wrong." in response.get_data(as_text=True)
    # Another account's token is untouched.
    hr_bearer = {"Authorization": f"Bearer {other}"}
    assert app.test_client().get("/api/v1/surveys/acme/rate", headers=hr_bearer).status_code == 200
    assert runner.invoke(args=["users", "enable", FAC_EMAIL]).exit_code == 0
    assert login(app.test_client(), FAC_EMAIL, FAC_PASSWORD).status_code == 302
    assert app.test_client().get("/api/v1/surveys/acme/rate", headers=bearer).status_code == 401  # still revoked
    assert runner.invoke(args=["users", "disable", "nobody@example.org"]).exit_code == 1


def test_a_new_password_ends_the_sessions_and_follows_the_rules(app, runner, hr_client):
    result = runner.invoke(args=["users", "set-password", HR_EMAIL, "--password-stdin"], input="aaaaaaaaaaaaaaaa\n")
    assert result.exit_code == 1 and "repeats itself" in result.output
    assert hr_client.get("/admin/").status_code == 200  # a refused change ends nothing
    new = "lantern orchard pebble"
    result = runner.invoke(args=["users", "set-password", HR_EMAIL, "--password-stdin"], input=new + "\n")
    assert result.exit_code == 0, result.output
    assert hr_client.get("/admin/").status_code == 302
    assert login(app.test_client(), HR_EMAIL, HR_PASSWORD).status_code == 401
    assert login(app.test_client(), HR_EMAIL, new).status_code == 302


@pytest.mark.parametrize(("setting", "shift"), [("LOGIN_IDLE_SECONDS", "seen_at"), ("LOGIN_MAX_SECONDS", "created_at")])
def test_sessions_expire_on_the_server(app, hr_client, db, setting, shift):
    limit = app.config[setting]
    db.execute(f"UPDATE login_sessions SET {shift} = ?", [int(time.time()) - limit - 1])
    db.conn.commit()
    assert hr_client.get("/admin/").status_code == 302
    assert db["login_sessions"].count == 0  # the expired row is gone


def test_tokens_list_and_revoke(app, runner, hr_client):
    assert runner.invoke(args=["tokens", "list"]).output.strip() == "No active API tokens."
    made = runner.invoke(args=["tokens", "create", "--role", "hr", "--label", "payroll sync", "--owner", HR_EMAIL])
    token = made.output.strip().splitlines()[-1]
    runner.invoke(args=["tokens", "create", "--role", "facilitator"])
    close_survey(app)
    assert (
        app.test_client().get("/api/v1/surveys/acme/rate", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    listing = runner.invoke(args=["tokens", "list"]).output
    lines = listing.strip().splitlines()
    assert lines[0].split()[:4] == ["id", "role", "created", "last"]
    assert "payroll sync" in listing and HR_EMAIL in listing and "never" in lines[2]
    assert token not in listing and token[4:20] not in listing  # never the token itself
    token_id = int(lines[1].split()[0])
    assert runner.invoke(args=["tokens", "revoke", str(token_id)]).exit_code == 0
    assert (
        app.test_client().get("/api/v1/surveys/acme/rate", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert "payroll sync" not in runner.invoke(args=["tokens", "list"]).output
    assert "(revoked" in runner.invoke(args=["tokens", "list", "--all"]).output
    again = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert again.exit_code == 1 and "no active API token" in again.output
    # A facilitator cannot own an HR token.
    refused = runner.invoke(args=["tokens", "create", "--role", "hr", "--owner", FAC_EMAIL])
    assert refused.exit_code == 1 and "cannot have the role hr" in refused.output


def test_hr_page_lists_active_tokens_and_revokes_one(app, hr_client, fac_client):
    with app.app_context():
        token = accounts.create_token(get_db(), "facilitator", "projector <b>laptop</b>")
        token_id = accounts.list_tokens(get_db())[0]["id"]
    page = hr_client.get("/admin/tokens")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "projector &lt;b&gt;laptop&lt;/b&gt;" in html and token not in html
    assert fac_client.get("/admin/tokens").status_code == 403
    fac_token = csrf_token(fac_client.get("/admin/").get_data(as_text=True))
    assert fac_client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": fac_token}).status_code == 403
    # Without a valid CSRF token nothing is revoked.
    assert hr_client.post(f"/admin/tokens/{token_id}/revoke").status_code == 400
    assert accounts_active(app) == 1
    done = hr_client.post(
        f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(html)}, follow_redirects=True
    )
    assert done.status_code == 200 and f"API token #{token_id} is revoked" in done.get_data(as_text=True)
    assert accounts_active(app) == 0
    assert "There are no active API tokens." in hr_client.get("/admin/tokens").get_data(as_text=True)
    missing = hr_client.post("/admin/tokens/999/revoke", data={"csrf_token": csrf_token(html)}, follow_redirects=True)
    assert missing.status_code == 200 and "There is no active API token #999." in missing.get_data(as_text=True)


def accounts_active(app) -> int:
    """Return the number of active API tokens."""
    with app.app_context():
        return len(accounts.list_tokens(get_db()))
