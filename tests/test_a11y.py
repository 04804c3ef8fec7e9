"""Accessibility: an axe-core scan of every page in Debian's Chromium, driven by Playwright.

Each page (respondent form in both languages on a phone and a laptop, its error and end
pages, the HR pages with the demo survey loaded) must have no axe violation of impact
"serious" or "critical". The assertion message lists each violation with its target nodes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, HR_EMAIL, HR_PASSWORD, PHONE, log_in_as_hr
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import make_server

from survey import accounts, actions, create_app, invitations, polls, surveys
from survey.db import get_db
from survey.schemas import ActionIn

BLOCKING = ("serious", "critical")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM} (run `make chromium`)"
    ),
]


@dataclass
class Site:
    """The live server's address, its app and the personal invitation tokens made for the scan."""

    url: str
    app: Flask
    used_token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    """Serve an app with the demo survey (150 responses, English), a closed survey and a used invitation."""
    folder = tmp_path_factory.mktemp("a11y")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(folder / "a11y.sqlite"),
            "SECRET_KEY": "a11y-secret",
            "REPORTS_DIR": str(folder / "reports"),
            # One wrong invitation token is enough to reach the "too many attempts" page.
            "TOKEN_GUESS_LIMIT": 1,
        }
    )
    with app.app_context():
        db = get_db()
        accounts.create_user(db, HR_EMAIL, HR_PASSWORD, "hr")
        closed = surveys.create_survey(
            db,
            app.extensions["instrument"],
            title="Closed round",
            language="en",
            departments=[{"code": "A", "name": "Alpha"}],
            slug="closed",
        )
        surveys.set_status(db, closed, "closed")
        surveys.archive(db, closed)  # the survey list then has its "Archived" section
        surveys.create_survey(
            db,
            app.extensions["instrument"],
            title="Next spring",
            language="en",
            departments=[{"code": "A", "name": "Alpha", "headcount": 12}],
            slug="draft",
            opens_at=(dt.date.today() + dt.timedelta(days=30)).isoformat(),
        )
        surveys.create_survey(
            db,
            app.extensions["instrument"],
            title="By invitation",
            language="en",
            departments=[{"code": "A", "name": "Alpha"}],
            slug="invited-only",
            collection="invitations",
        )
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "150", "--language", "en"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db = get_db()
        demo = surveys.get_survey(db, "demo-open")
        dept = surveys.departments(db, demo)[0]
        used_token = invitations.create_invitations(db, demo, dept, 1)[0]
        db.execute("UPDATE invitations SET used = 1")
        accounts.create_token(db, "facilitator", "workshop laptop")  # the API tokens page has a row to show
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(url, app, used_token)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Start Chromium once for the module, with the flags of test_browser.py."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def hr_state(browser: Browser, site: Site, tmp_path_factory) -> str:
    """Log in as HR once through the login form and return the saved browser state."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    log_in_as_hr(page, site.url)
    page.wait_for_url(f"{site.url}/admin/")
    path = str(tmp_path_factory.mktemp("state") / "hr.json")
    context.storage_state(path=path)
    context.close()
    return path


@pytest.fixture(scope="module")
def axe() -> Axe:
    """Return the axe-core runner (axe.min.js ships with the package)."""
    return Axe()


def describe(violations: list[dict]) -> str:
    """Format violations for an assertion message: id, impact, help and the nodes to fix."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"][:8]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:200]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


# Each scenario opens one page: (name, endpoint it covers, HR login?, viewport, steps to reach it).
Steps = Callable[[Page, Site], None]


def goto(path: str) -> Steps:
    """Return steps that open a path."""
    return lambda page, site: page.goto(f"{site.url}{path}")


def submit_empty_form(page: Page, site: Site) -> None:
    """Open the respondent form and send it without a department: the page with error messages."""
    page.goto(f"{site.url}/s/demo-open")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("#form-notice")


def answer_and_submit(page: Page, site: Site) -> None:
    """Answer one statement, pick a department, submit and send anyway: the thank-you page."""
    few_answers(page, site)
    page.get_by_role("button", name="Send anyway").click()
    page.wait_for_url("**/s/demo-open/thanks**")


def few_answers(page: Page, site: Site) -> None:
    """Answer one statement, pick a department and submit: the question whether to send so few answers."""
    page.goto(f"{site.url}/s/demo-open")
    page.locator("#department").select_option(index=1)
    page.locator("fieldset.item label.opt").first.click()
    page.locator("#questionnaire button[type=submit]").click()
    page.wait_for_selector("#few-answers")


def answer_self(limit: int, lang: str = "en") -> Steps:
    """Return steps that answer the self-assessment (the client allowed `limit` of them): its profile, or 429."""

    def steps(page: Page, site: Site) -> None:
        site.app.config["SELF_ASSESSMENT_LIMIT"] = limit
        page.goto(f"{site.url}/self?lang={lang}")
        for group in page.locator("fieldset.item").all()[:9]:
            group.locator("label.opt").nth(3).click()
        page.locator("button[type=submit]").click()
        page.wait_for_selector("#profile" if limit else "#form-notice")

    return steps


def wrong_login(page: Page, site: Site) -> None:
    """Log in with a wrong password: the login page with its error."""
    page.goto(f"{site.url}/admin/login")
    page.get_by_label("E-mail").fill(HR_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def empty_new_survey(page: Page, site: Site) -> None:
    """Send the new-survey form empty: the form with its error messages."""
    page.goto(f"{site.url}/admin/surveys/new")
    page.get_by_role("button", name="Create survey").click()
    page.wait_for_load_state()


def create_links(page: Page, site: Site) -> None:
    """Create two personal links on the survey page: the page that shows them once."""
    page.goto(f"{site.url}/admin/surveys/demo")
    page.get_by_label("Number of links").fill("2")
    page.get_by_role("button", name="Create links").click()
    page.wait_for_load_state()


def with_charts(path: str) -> Steps:
    """Return steps that open a page and wait until plotly has drawn its charts."""

    def steps(page: Page, site: Site) -> None:
        page.goto(f"{site.url}{path}")
        page.locator(".main-svg").first.wait_for()

    return steps


def throttled(page: Page, site: Site) -> None:
    """Send a wrong invitation token twice: the "too many attempts" page."""
    page.goto(f"{site.url}/i/not-a-real-token")
    page.goto(f"{site.url}/i/not-a-real-token")


PROJECTOR = {"width": 1920, "height": 1080}


def one_click_action(page: Page, site: Site) -> None:
    """Add a recommended action with one click on the results page (the page comes back with a message)."""
    page.goto(f"{site.url}/admin/surveys/demo/results")
    page.locator("form.add-action button:visible").first.click()
    page.wait_for_selector(".flash")


def plan_with_action(page: Page, site: Site) -> None:
    """The action plan with at least one action."""
    one_click_action(page, site)
    page.goto(f"{site.url}/admin/surveys/demo/actions")


def plan_form_errors(page: Page, site: Site) -> None:
    """Send the plan's form with a bad date and no title: the form with its messages (422)."""
    page.goto(f"{site.url}/admin/surveys/demo/actions")
    page.locator("#due").fill("2026-02-30")
    page.get_by_role("button", name="Add the action").click()
    page.wait_for_selector(".error")


def action_page(page: Page, site: Site) -> None:
    """One action: its history, notes and the edit form."""
    plan_with_action(page, site)
    page.locator("table.plan th[scope=row] a").first.click()
    page.wait_for_selector("#h-history")


def deck_slide(slide: str, chart: bool = False) -> Steps:
    """Return steps that open the presentation on one slide (waiting for its chart)."""

    def steps(page: Page, site: Site) -> None:
        page.goto(f"{site.url}/admin/surveys/demo/present?d=SALES#{slide}")
        if chart:
            page.locator(f"#{slide} .main-svg").first.wait_for()
        if slide.startswith("slide-level"):
            page.locator(f"#{slide} details.record summary").click()

    return steps


def new_poll(site: Site, k: int = 3) -> tuple[str, str]:
    """Start a live poll directly in the app; return its slug and code."""
    with site.app.app_context():
        db = get_db()
        poll = polls.create_poll(db, site.app.extensions["instrument"], "Room poll", "en", min_group_size=k)
        return poll.slug, polls.poll_info(db, poll)["code"]


def poll_screen(page: Page, site: Site) -> None:
    """Start a poll through the form: the screen with its QR code, code and count."""
    page.goto(f"{site.url}/admin/polls/new?linked=demo")
    page.get_by_role("button", name="Start the poll").click()
    page.wait_for_selector("#poll-code")


def poll_results(page: Page, site: Site) -> None:
    """Three answers on "phones", then close: the results, most divided first."""
    slug, code = new_poll(site)
    for value in ("1", "3", "5"):
        page.goto(f"{site.url}/p/{code}")
        for group in page.locator("fieldset.item").all():
            group.locator(f"input[value='{value}']").check()
        page.get_by_role("button", name="Send my answers").click()
        page.wait_for_url(f"**/p/{code}/thanks**")
    page.goto(f"{site.url}/admin/polls/{slug}")
    page.get_by_role("button", name="Close the poll and show the results").click()
    page.wait_for_selector("#poll-answered")


def poll_answer(page: Page, site: Site) -> None:
    """The poll on a phone."""
    page.goto(f"{site.url}/p/{new_poll(site)[1]}")


def poll_thanks(page: Page, site: Site) -> None:
    """The thank-you page after answering a poll."""
    page.goto(f"{site.url}/p/{new_poll(site)[1]}")
    page.locator("fieldset.item").first.locator("input[value='4']").check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/thanks**")


def followup_form(page: Page, site: Site) -> None:
    """The form of a round that follows one with actions done, and asks the follow-up statement."""
    with site.app.app_context():
        db = get_db()
        if surveys.get_survey(db, "round-two") is None:
            demo = surveys.get_survey(db, "demo")
            depts = [{"code": d.code, "name": d.name} for d in surveys.departments(db, demo)]
            surveys.create_survey(
                db, site.app.extensions["instrument"], title="Round two", language="en", departments=depts,
                slug="round-two", previous="demo", followup_statement=True,
            )  # fmt: skip
            body = ActionIn.model_validate({"level": "owning", "theme": "roles", "title": "Owners", "status": "done"})
            actions.create_action(db, demo, body, "a11y")
    page.goto(f"{site.url}/s/round-two")


SCENARIOS: list[tuple[str, str, bool, dict, Steps]] = [
    ("form-en-phone", "respond.open_link", False, PHONE, goto("/s/demo-open")),
    ("form-en-desktop", "respond.open_link", False, DESKTOP, goto("/s/demo-open")),
    ("form-nb-phone", "respond.open_link", False, PHONE, goto("/s/demo-open?lang=nb")),
    ("form-nb-desktop", "respond.open_link", False, DESKTOP, goto("/s/demo-open?lang=nb")),
    ("form-with-errors", "respond.open_link", False, PHONE, submit_empty_form),
    ("department-link", "respond.open_link", False, PHONE, goto("/s/demo-open?d=SALES")),
    ("thanks", "respond.thanks", False, PHONE, answer_and_submit),
    ("thanks-desktop", "respond.thanks", False, DESKTOP, answer_and_submit),
    ("thanks-plain", "respond.thanks", False, PHONE, goto("/s/demo-open/thanks")),
    ("self", "respond.self_assessment", False, PHONE, goto("/self?lang=en")),
    ("self-nn-desktop", "respond.self_assessment", False, DESKTOP, goto("/self?lang=nn")),
    ("self-profile", "respond.self_assessment", False, PHONE, answer_self(10**6)),
    ("self-profile-nb-desktop", "respond.self_assessment", False, DESKTOP, answer_self(10**6, "nb")),
    ("self-throttled", "respond.self_assessment", False, PHONE, answer_self(0)),
    ("closed-survey", "respond.open_link", False, PHONE, goto("/s/closed")),
    ("invitation-only", "respond.open_link", False, PHONE, goto("/s/invited-only")),
    ("unknown-survey", "respond.open_link", False, PHONE, goto("/s/no-such-survey")),
    ("no-invitation", "respond.invited", False, PHONE, goto("/s/demo-open/invited")),
    (
        "used-invitation",
        "respond.invitation",
        False,
        PHONE,
        lambda page, site: page.goto(f"{site.url}/i/{site.used_token}"),
    ),
    ("too-many-attempts", "respond.invitation", False, PHONE, throttled),
    ("login", "admin.login", False, DESKTOP, goto("/admin/login")),
    ("login-phone", "admin.login", False, PHONE, goto("/admin/login")),
    ("login-wrong-password", "admin.login", False, DESKTOP, wrong_login),
    ("survey-list", "admin.surveys_list", True, DESKTOP, goto("/admin/")),
    ("survey-list-phone", "admin.surveys_list", True, PHONE, goto("/admin/")),
    ("new-survey", "admin.create", True, DESKTOP, goto("/admin/surveys/new")),
    ("new-survey-errors", "admin.create", True, DESKTOP, empty_new_survey),
    ("survey-detail", "admin.detail", True, DESKTOP, goto("/admin/surveys/demo")),
    ("survey-detail-phone", "admin.detail", True, PHONE, goto("/admin/surveys/demo")),
    ("invitation-links", "admin.create_invitations", True, DESKTOP, create_links),
    ("invitations", "admin.invitations_page", True, DESKTOP, goto("/admin/surveys/demo/invitations")),
    ("invitations-phone", "admin.invitations_page", True, PHONE, goto("/admin/surveys/demo/invitations")),
    ("results", "admin.results_page", True, DESKTOP, with_charts("/admin/surveys/demo/results")),
    ("results-sales", "admin.results_page", True, DESKTOP, with_charts("/admin/surveys/demo/results?department=SALES")),
    ("results-phone", "admin.results_page", True, PHONE, with_charts("/admin/surveys/demo/results")),
    ("results-not-released", "admin.results_page", True, DESKTOP, goto("/admin/surveys/demo-open/results")),
    ("survey-detail-open", "admin.detail", True, DESKTOP, goto("/admin/surveys/demo-open")),
    ("compare", "admin.compare_page", True, DESKTOP, with_charts("/admin/surveys/demo/compare?d=SALES&sort=owning")),
    ("compare-large", "admin.compare_page", True, DESKTOP, with_charts("/admin/surveys/demo/compare?large=1")),
    ("compare-phone", "admin.compare_page", True, PHONE, with_charts("/admin/surveys/demo/compare")),
    ("handout", "admin.handout", True, DESKTOP, goto("/admin/surveys/demo/handout?d=SALES")),
    ("not-found", "admin.detail", True, DESKTOP, goto("/admin/surveys/no-such-survey")),
    ("not-open-yet", "respond.open_link", False, PHONE, goto("/s/draft")),
    ("survey-detail-draft", "admin.detail", True, DESKTOP, goto("/admin/surveys/draft")),
    ("survey-detail-draft-phone", "admin.detail", True, PHONE, goto("/admin/surveys/draft")),
    ("departments", "admin.edit_departments", True, DESKTOP, goto("/admin/surveys/draft/departments")),
    ("departments-locked", "admin.edit_departments", True, DESKTOP, goto("/admin/surveys/demo/departments")),
    ("next-round", "admin.next_round", True, DESKTOP, goto("/admin/surveys/demo/next-round")),
    ("few-answers", "respond.open_link", False, PHONE, few_answers),
    ("comments", "admin.comments_page", True, DESKTOP, goto("/admin/surveys/demo/comments")),
    ("comments-phone", "admin.comments_page", True, PHONE, goto("/admin/surveys/demo/comments?q=the")),
    (
        "compare-left-out",
        "admin.compare_page",
        True,
        DESKTOP,
        with_charts("/admin/surveys/demo/compare?d=SALES&d=OPS&d=CS&d=DEV&d=LOG"),
    ),
    (
        "results-dept-phone",
        "admin.results_page",
        True,
        PHONE,
        with_charts("/admin/surveys/demo/results?department=OPS"),
    ),
    (
        "results-dept-hidden",
        "admin.results_page",
        True,
        DESKTOP,
        with_charts("/admin/surveys/demo/results?department=BOARD"),
    ),
    ("archived-list", "admin.surveys_list", True, DESKTOP, goto("/admin/")),
    ("results-recommendations", "admin.results_page", True, DESKTOP, one_click_action),
    ("action-plan", "admin.actions_page", True, DESKTOP, plan_with_action),
    ("action-plan-phone", "admin.actions_page", True, PHONE, plan_with_action),
    ("action-plan-errors", "admin.actions_page", True, DESKTOP, plan_form_errors),
    ("action", "admin.action_page", True, DESKTOP, action_page),
    ("action-plan-print", "admin.actions_print", True, DESKTOP, goto("/admin/surveys/demo/actions/print")),
    ("present-setup", "admin.present_setup", True, DESKTOP, goto("/admin/surveys/demo/present/setup")),
    ("present-title", "admin.present", True, PROJECTOR, deck_slide("slide-title")),
    ("present-pyramid", "admin.present", True, PROJECTOR, deck_slide("slide-pyramid", chart=True)),
    ("present-radar", "admin.present", True, PROJECTOR, deck_slide("slide-radar", chart=True)),
    ("present-heat", "admin.present", True, PROJECTOR, deck_slide("slide-heat")),
    ("present-level", "admin.present", True, PROJECTOR, deck_slide("slide-level-owning")),
    ("present-differences", "admin.present", True, PROJECTOR, deck_slide("slide-differences")),
    ("present-plan", "admin.present", True, PROJECTOR, deck_slide("slide-plan")),
    ("polls", "admin.polls_page", True, DESKTOP, goto("/admin/polls")),
    ("poll-new", "admin.poll_new", True, DESKTOP, goto("/admin/polls/new?linked=demo")),
    ("poll-screen", "admin.poll_screen", True, PROJECTOR, poll_screen),
    ("poll-results", "admin.poll_screen", True, PROJECTOR, poll_results),
    ("poll-enter", "respond.poll_enter", False, PHONE, goto("/p")),
    ("poll-unknown-code", "respond.poll_enter", False, PHONE, goto("/p?code=ZZZZZZ")),
    ("poll-answer", "respond.poll_answer", False, PHONE, poll_answer),
    ("poll-thanks", "respond.poll_thanks", False, PHONE, poll_thanks),
    ("form-followup", "respond.open_link", False, PHONE, followup_form),
    ("api-tokens", "admin.tokens_page", True, DESKTOP, goto("/admin/tokens")),
    ("api-tokens-phone", "admin.tokens_page", True, PHONE, goto("/admin/tokens")),
    ("audit-trail", "admin.audit_page", True, DESKTOP, goto("/admin/audit")),
    ("audit-trail-phone", "admin.audit_page", True, PHONE, goto("/admin/audit")),
    ("delete-survey", "admin.delete_survey", True, DESKTOP, goto("/admin/surveys/demo-open/delete")),
    # Without FLASK_OIDC_* the single sign-on addresses are "not found" pages (tests/test_sso.py drives them).
    ("sso-not-configured", "admin.sso_start", False, DESKTOP, goto("/admin/login/oidc")),
    ("sso-callback-not-configured", "admin.sso_callback", False, DESKTOP, goto("/admin/login/oidc/callback")),
]


@pytest.mark.parametrize(
    ("endpoint", "login", "viewport", "steps"),
    [pytest.param(*scenario[1:], id=scenario[0]) for scenario in SCENARIOS],
)
def test_page_has_no_serious_violations(browser, site, hr_state, axe, endpoint, login, viewport, steps):
    """The page passes axe-core without serious or critical violations."""
    context: BrowserContext = browser.new_context(
        viewport=viewport, locale="en-GB", storage_state=hr_state if login else None
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        steps(page, site)
        results = axe.run(page)
    finally:
        context.close()
    violations = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not violations, f"{page.url}\n{describe(violations)}"


def test_every_html_page_is_scanned(site):
    """Every HTML page of the app (GET routes other than downloads, static files and the API) has a scenario."""
    pages = {
        rule.endpoint
        for rule in site.app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.rule.startswith(("/api/", "/static/"))
        and "." not in rule.rule.rsplit("/", 1)[-1]  # report.pdf, qr.<fmt>, export.<fmt>: downloads
        and rule.endpoint != "respond.index"  # a redirect to the survey list
    }
    scanned = {scenario[1] for scenario in SCENARIOS}
    assert pages <= scanned, f"pages without an accessibility scan: {sorted(pages - scanned)}"


def test_scan_reports_a_planted_violation(browser, site, axe):
    """The scan finds a serious violation when there is one (an image without alt text), so a pass means something."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(f"{site.url}/s/demo-open")
        page.evaluate("document.querySelector('main').append(Object.assign(new Image(), {src: '/static/favicon.svg'}))")
        ids = {v["id"] for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING}
    finally:
        context.close()
    assert "image-alt" in ids
