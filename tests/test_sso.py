"""Single sign-on against a real OpenID Connect provider on loopback (panva's certified oidc-provider, in node).

The app and the provider talk as in production: the browser (a requests session) is sent to
the provider, signs in on its own login form and comes back with a code; the app exchanges
the code over HTTP, checks the ID token's signature, issuer, audience and nonce, and maps
the groups claim to a role. PKCE (S256) is required by the provider for every request.

The provider is installed by scripts/install-oidc-provider.sh (npm ci in tests/oidc); the
tests run it themselves when it is missing, and are skipped only when node is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from helpers import BASE_URL, DEPARTMENTS, HR_EMAIL, HR_PASSWORD, csrf_token
from werkzeug.serving import make_server

from survey import accounts, create_app, surveys
from survey.db import connect, get_db

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_DIR = ROOT / "tests" / "oidc"
CLIENT_ID, CLIENT_SECRET = "survey-app", "test-client-secret-that-is-long-enough"
USERS = {
    "hanna": {"email": "hanna.hr@example.org", "email_verified": True, "groups": ["staff", "survey-hr"]},
    "frode": {"email": "frode@example.org", "email_verified": True, "groups": ["survey-facilitators"]},
    "nils": {"email": "nils@example.org", "email_verified": True, "groups": ["staff"]},
    # The same e-mail as the local HR account of the tests: linked only when verified.
    "local-hr": {"email": HR_EMAIL, "email_verified": True, "groups": ["survey-hr"]},
    "unverified": {"email": "fac@example.org", "email_verified": False, "groups": ["survey-facilitators"]},
}


def install_provider() -> None:
    """Install oidc-provider from tests/oidc/package-lock.json when it is not there yet."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    subprocess.run(["sh", str(ROOT / "scripts" / "install-oidc-provider.sh")], check=True, timeout=300)
    assert (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir(), "npm could not install oidc-provider"


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    """Serve an app with local accounts on loopback, start the provider for it, and configure single sign-on."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the OpenID Connect provider cannot run (apt-get install nodejs npm)")
    install_provider()
    folder = tmp_path_factory.mktemp("sso")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(folder / "sso.sqlite"),
            "SECRET_KEY": "sso-test-secret",
            "REPORTS_DIR": str(folder / "reports"),
            "BASE_URL": BASE_URL,
        }
    )
    with app.app_context():
        db = get_db()
        accounts.create_user(db, HR_EMAIL, HR_PASSWORD, "hr")
        accounts.create_user(db, "fac@example.org", "facilitator password", "facilitator")
        surveys.create_survey(
            db, app.extensions["instrument"], title="Acme", language="en", departments=DEPARTMENTS, slug="acme"
        )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    callback = f"{url}/admin/login/oidc/callback"
    client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [callback]}
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "OIDC_CLIENT": json.dumps(client), "OIDC_USERS": json.dumps(USERS)}
    provider = subprocess.Popen(
        ["node", "provider.js"],
        cwd=PROVIDER_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        issuer = json.loads(provider.stdout.readline())["issuer"]
        app.config.update(
            OIDC_ISSUER=issuer,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_SCOPES="openid email profile groups",
            OIDC_NAME="Test IdP",
            OIDC_ROLE_CLAIM="groups",
            OIDC_HR_VALUES="survey-hr, hr-admins",
            OIDC_FACILITATOR_VALUES="survey-facilitators",
        )
        yield app, url, issuer
    finally:
        provider.stdin.close()
        provider.stdout.close()
        try:
            provider.wait(timeout=5)
        except subprocess.TimeoutExpired:
            provider.kill()
        server.shutdown()
        thread.join(timeout=5)


def sign_in(url: str, login: str, next_path: str = "/admin/") -> tuple[requests.Session, requests.Response, dict]:
    """Drive the authorization-code flow as a browser would; return the session, the last answer and the request."""
    browser = requests.Session()
    start = browser.get(f"{url}/admin/login/oidc", params={"next": next_path}, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    authorization = parse_qs(urlsplit(start.headers["Location"]).query)
    page = browser.get(start.headers["Location"], timeout=10)  # the provider's own login form
    assert page.status_code == 200, page.text
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form = {**hidden, "login": login, "password": "any password: the provider's test form takes any"}
    done = browser.post(urljoin(page.url, action), data=form, timeout=10)
    return browser, done, authorization


def test_the_login_page_offers_single_sign_on_and_local_accounts_keep_working(sso):
    _app, url, _ = sso
    browser = requests.Session()
    page = browser.get(f"{url}/admin/login", timeout=10)
    assert "Sign in with Test IdP" in page.text
    form = {"email": HR_EMAIL, "password": HR_PASSWORD, "csrf_token": csrf_token(page.text)}
    done = browser.post(f"{url}/admin/login", data=form, timeout=10)
    assert done.status_code == 200 and urlsplit(done.url).path == "/admin/" and HR_EMAIL in done.text


def test_the_authorization_request_uses_pkce_a_nonce_and_state(sso):
    _app, url, issuer = sso
    browser = requests.Session()
    start = browser.get(f"{url}/admin/login/oidc", allow_redirects=False, timeout=10)
    location = start.headers["Location"]
    assert location.startswith(issuer + "/")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["nonce"][0]) >= 20 and len(query["state"][0]) >= 20
    assert query["redirect_uri"] == [f"{url}/admin/login/oidc/callback"]  # from FLASK_BASE_URL, not the Host


def test_a_new_hr_account_is_created_on_first_sign_in(sso):
    app, url, issuer = sso
    browser, done, _ = sign_in(url, "hanna", "/admin/audit")
    assert done.status_code == 200 and urlsplit(done.url).path == "/admin/audit", done.text
    assert "hanna.hr@example.org (HR)" in done.text
    db = connect(app.config["DATABASE"])
    (user,) = db.query("SELECT * FROM users WHERE email = 'hanna.hr@example.org'")
    assert user["role"] == "hr" and user["oidc_issuer"] == issuer and user["oidc_subject"] == "hanna"
    assert user["password_hash"] == accounts.NO_PASSWORD  # no password: it cannot log in locally
    actions = [(r["actor"], r["action"]) for r in db.query("SELECT actor, action FROM audit_log")]
    assert ("hanna.hr@example.org", "signed-in") in actions
    db.close()
    # Signing in again finds the same account (by issuer and subject), not a second one.
    sign_in(url, "hanna")
    db = connect(app.config["DATABASE"])
    assert db["users"].count_where("oidc_subject = 'hanna'") == 1
    db.close()
    # The session is a server-side one: logging out ends it.
    page = browser.get(f"{url}/admin/", timeout=10)
    browser.post(f"{url}/admin/logout", data={"csrf_token": csrf_token(page.text)}, timeout=10)
    assert urlsplit(browser.get(f"{url}/admin/", timeout=10).url).path == "/admin/login"


def test_a_facilitator_group_gives_the_facilitator_role(sso):
    _app, url, _ = sso
    browser, done, _ = sign_in(url, "frode")
    assert done.status_code == 200 and "frode@example.org (facilitator)" in done.text
    assert browser.get(f"{url}/admin/audit", timeout=10).status_code == 403


def test_an_identity_without_a_mapped_role_is_refused_with_a_clear_page(sso):
    app, url, _ = sso
    browser, done, _ = sign_in(url, "nils")
    assert done.status_code == 403
    assert "gives you no role in this app" in done.text and "nils@example.org" in done.text
    assert urlsplit(browser.get(f"{url}/admin/", timeout=10).url).path == "/admin/login"
    db = connect(app.config["DATABASE"])
    assert not db["users"].count_where("email = 'nils@example.org'")
    assert db["audit_log"].count_where("action = 'sign-in-refused' AND actor = 'nils@example.org'") == 1
    db.close()


def test_an_existing_local_account_is_linked_by_a_verified_e_mail(sso):
    app, url, _issuer = sso
    _browser, done, _ = sign_in(url, "local-hr")
    assert done.status_code == 200 and f"{HR_EMAIL} (HR)" in done.text
    db = connect(app.config["DATABASE"])
    (user,) = db.query("SELECT * FROM users WHERE email = ?", [HR_EMAIL])
    assert user["oidc_subject"] == "local-hr" and user["password_hash"] != accounts.NO_PASSWORD
    db.close()


def test_an_unverified_e_mail_does_not_take_over_a_local_account(sso):
    app, url, _ = sso
    _browser, done, _ = sign_in(url, "unverified")
    assert done.status_code == 403 and "has not verified" in done.text
    db = connect(app.config["DATABASE"])
    (user,) = db.query("SELECT * FROM users WHERE email = 'fac@example.org'")
    assert user["oidc_subject"] is None
    db.close()


def test_a_replayed_or_forged_callback_is_refused_without_an_error(sso):
    _app, url, _ = sso
    browser = requests.Session()
    forged = browser.get(f"{url}/admin/login/oidc/callback", params={"code": "x", "state": "y"}, timeout=10)
    assert forged.status_code == 401 and "could not be completed" in forged.text
    # A real code, used a second time from the same browser: the state was used up with the first.
    browser, done, _ = sign_in(url, "frode")
    assert done.status_code == 200
    callback = next(r for r in done.history if "/admin/login/oidc/callback" in r.url)
    again = browser.get(callback.url, timeout=10)
    assert again.status_code == 401
    cancelled = requests.get(f"{url}/admin/login/oidc/callback", params={"error": "access_denied"}, timeout=10)
    assert cancelled.status_code == 401


def test_without_configuration_there_is_no_single_sign_on(make_app):
    app = make_app()
    client = app.test_client()
    assert "Sign in with" not in client.get("/admin/login").get_data(as_text=True)
    assert client.get("/admin/login/oidc").status_code == 404
    assert client.get("/admin/login/oidc/callback?code=x&state=y").status_code == 404


def test_a_provider_in_clear_text_off_this_machine_is_refused(make_app):
    app = make_app(OIDC_ISSUER="http://login.example.org", OIDC_CLIENT_ID="x", OIDC_HR_VALUES="hr")
    response = app.test_client().get("/admin/login/oidc")
    assert response.status_code == 503 and "must use https" in response.get_data(as_text=True)
