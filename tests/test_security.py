"""Security settings: production secret key, cookies, headers, login throttling, body size."""

from __future__ import annotations

import pytest
from helpers import HR_PASSWORD, csrf_token


@pytest.mark.parametrize("key", [None, "", "short", "a" * 40])
def test_production_refuses_a_weak_secret_key(make_app, key):
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY"):
        make_app(PRODUCTION=True, SECRET_KEY=key)  # None: no key set at all


def test_production_with_a_real_key_sends_secure_cookies(make_app):
    app = make_app(PRODUCTION=True, SECRET_KEY="9f2c4e7a1b8d3f6e0a5c2b9d4e7f1a3c")
    client = app.test_client()
    resp = client.get("/admin/login", base_url="https://survey.example.org")
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_development_cookie_flags_and_limits(app, client):
    resp = client.get("/admin/login")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


@pytest.mark.parametrize("path", ["/s/acme", "/admin/login", "/api/v1/openapi.json"])
def test_security_headers_everywhere(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_login_throttling(app, client):
    for _ in range(app.config["LOGIN_LIMIT"]):
        page = client.get("/admin/login").get_data(as_text=True)
        resp = client.post(
            "/admin/login", data={"email": "hr@example.org", "password": "wrong one", "csrf_token": csrf_token(page)}
        )
        assert resp.status_code == 401
    page = client.get("/admin/login").get_data(as_text=True)
    # Even the right password is refused while the account is throttled for this client.
    resp = client.post(
        "/admin/login", data={"email": "hr@example.org", "password": HR_PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 429 and "Too many failed attempts" in resp.get_data(as_text=True)
    assert int(resp.headers["Retry-After"]) > 0
    # Another account from the same client is not locked out by these failures.
    page = client.get("/admin/login").get_data(as_text=True)
    resp = client.post(
        "/admin/login",
        data={"email": "fac@example.org", "password": "facilitator password", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302


def test_64_parallel_wrong_logins_get_exactly_the_limit_of_password_checks(app, live_server, monkeypatch):
    """The attempt is counted in one write transaction before the password is checked: no race gets past it."""
    import threading

    import requests

    from survey import accounts

    checks = []
    real = accounts.authenticate

    def counted(*args, **kwargs):
        checks.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts, "authenticate", counted)
    browser = requests.Session()
    token = csrf_token(browser.get(f"{live_server}/admin/login", timeout=10).text)
    cookies = browser.cookies.get_dict()
    start = threading.Barrier(64)
    statuses = []

    def attempt(n: int) -> None:
        start.wait()
        response = requests.post(
            f"{live_server}/admin/login",
            data={"email": "hr@example.org", "password": f"wrong password {n}", "csrf_token": token},
            cookies=cookies,
            allow_redirects=False,
            timeout=60,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limit = app.config["LOGIN_LIMIT"]
    assert len(checks) == limit
    assert sorted(statuses) == [401] * limit + [429] * (64 - limit)


def test_a_successful_login_does_not_count_against_the_account(app, client):
    limit = app.config["LOGIN_LIMIT"]

    def attempt(password: str) -> int:
        page = client.get("/admin/login").get_data(as_text=True)
        data = {"email": "hr@example.org", "password": password, "csrf_token": csrf_token(page)}
        return client.post("/admin/login", data=data).status_code

    for _ in range(limit - 1):
        assert attempt("wrong one") == 401
    for _ in range(3):  # people who log in and out all day are never locked out by it
        assert attempt(HR_PASSWORD) == 302
    assert attempt("wrong one") == 401  # the limit-th failure is still checked
    assert attempt(HR_PASSWORD) == 429
