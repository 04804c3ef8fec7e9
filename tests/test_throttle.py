"""Token guessing is throttled per client, with counters in SQLite shared by every worker."""

from __future__ import annotations

import pytest

from survey import invitations, surveys, throttle
from survey.db import connect, get_db

LIMIT = 3


@pytest.fixture
def app(app):
    """The usual app, with a small limit so that tests stay short."""
    app.config.update(TOKEN_GUESS_LIMIT=LIMIT, TOKEN_GUESS_WINDOW=600)
    return app


@pytest.fixture
def second_worker(app, make_app):
    """Return a client of a second app on the same database file, as a second gunicorn worker would be."""
    other = make_app(DATABASE=app.config["DATABASE"], TOKEN_GUESS_LIMIT=LIMIT, TOKEN_GUESS_WINDOW=600)
    return other.test_client()


def real_token(app) -> str:
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        (token,) = invitations.create_invitations(
            get_db(), survey, surveys.department_by_code(get_db(), survey, "A"), 1
        )
    return token


def test_429_after_a_few_wrong_tokens(app, client, db):
    token = real_token(app)
    for n in range(LIMIT):
        assert client.get(f"/i/wrong-token-{n}").status_code == 404
    resp = client.get(f"/i/{token}", headers={"Accept-Language": "en"})  # even a right token waits now
    assert resp.status_code == 429
    # A bucket of LIMIT refills in 600 s: one attempt comes back every 600 / LIMIT seconds.
    assert 1 <= int(resp.headers["Retry-After"]) <= 600 // LIMIT
    minutes = -(-int(resp.headers["Retry-After"]) // 60)
    assert "Too many attempts" in resp.get_data(as_text=True)
    assert f"Wait {minutes} minutes" in resp.get_data(as_text=True)
    assert "For mange forsøk" in client.get("/i/x", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    # The counters hold a keyed hash of the address, never the address itself.
    (row,) = db.query("SELECT * FROM token_buckets")
    assert row["level"] < 1 and "127.0.0.1" not in str(row)
    # Another client is not affected.
    other = app.test_client()
    assert other.get(f"/i/{token}", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 303


def test_right_tokens_and_used_invitations_do_not_count(app, client, instrument):
    token = real_token(app)
    for _ in range(LIMIT + 2):
        assert client.get(f"/i/{token}").status_code == 303
    body = {"invitation": token, "answers": {"obs1": 3}}
    assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    for _ in range(LIMIT + 2):
        assert client.get(f"/i/{token}").status_code == 409  # used: a real token, not a guess


def test_the_limit_holds_across_workers(app, client, second_worker):
    token = real_token(app)
    second = second_worker
    assert client.get("/i/guess-1").status_code == 404
    assert second.get("/i/guess-2").status_code == 404
    assert client.get("/i/guess-3").status_code == 404
    assert second.get(f"/i/{token}").status_code == 429
    assert client.get(f"/i/{token}").status_code == 429


def test_the_api_is_throttled_too_and_shares_the_count(app, client, second_worker):
    token = real_token(app)
    second = second_worker
    bad = {"invitation": "guess", "answers": {"obs1": 3}}
    assert client.post("/api/v1/surveys/acme/responses", json=bad).status_code == 422
    assert second.post("/api/v1/surveys/acme/responses", json=bad).status_code == 422
    assert client.get("/i/guess").status_code == 404
    resp = second.post("/api/v1/surveys/acme/responses", json={"invitation": token, "answers": {"obs1": 3}})
    assert resp.status_code == 429 and "Too many wrong invitation tokens" in resp.json["error"]
    assert int(resp.headers["Retry-After"]) > 0
    # An escaped key is the same key: it gets no way around the limit.
    escaped = b'{"\\u0069nvitation": "%s", "answers": {"obs1": 3}}' % token.encode()
    resp = client.post("/api/v1/surveys/acme/responses", data=escaped, content_type="application/json")
    assert resp.status_code == 429
    # Answers through the open link are never held up by someone else's guessing.
    resp = client.post("/api/v1/surveys/acme/responses", json={"department": "A", "answers": {"obs1": 3}})
    assert resp.status_code == 201


def test_throttling_leaves_malformed_bodies_to_the_api(app, client):
    for _ in range(LIMIT):
        client.get("/i/guess")
    resp = client.post("/api/v1/surveys/acme/responses", data=b"[" * 100_000, content_type="application/json")
    assert resp.status_code == 400


def test_window_arithmetic(tmp_path):
    db = connect(str(tmp_path / "t.sqlite"))
    from survey.db import migrate

    migrate(db)
    key = throttle.client_key("192.0.2.7", "secret")
    window = 600
    t0 = 1_000_000 * window + 100  # 100 s into a slot
    for _ in range(2):
        throttle.record_failure(db, key, window, now=t0)
    assert throttle.retry_after(db, key, 3, window, now=t0) is None
    throttle.record_failure(db, key, window, now=t0)
    # Three in the current slot: blocked through the next slot as well.
    assert throttle.retry_after(db, key, 3, window, now=t0) == 2 * window - 100
    assert throttle.retry_after(db, key, 3, window, now=t0 + window) == window - 100
    assert throttle.retry_after(db, key, 3, window, now=t0 + 2 * window) is None
    # Failures spread over the end of one slot and the start of the next still add up.
    other = throttle.client_key("192.0.2.8", "secret")
    throttle.record_failure(db, other, window, now=t0 + 2 * window + 490)
    throttle.record_failure(db, other, window, now=t0 + 2 * window + 495)
    throttle.record_failure(db, other, window, now=t0 + 3 * window + 10)
    assert throttle.retry_after(db, other, 3, window, now=t0 + 3 * window + 10) == window - 110
    # Old slots are cleared as new failures come in.
    assert db.execute("SELECT MIN(slot) FROM token_attempts").fetchone()[0] >= (t0 + 2 * window) // window
    db.close()


def test_client_keys():
    assert throttle.client_key("192.0.2.7", "a") != throttle.client_key("192.0.2.7", "b")  # keyed
    assert throttle.client_key("192.0.2.7", "a") != throttle.client_key("192.0.2.8", "a")
    # One IPv6 subscriber holds a /64: its addresses share one count.
    assert throttle.client_key("2001:db8:1:2::1", "a") == throttle.client_key("2001:db8:1:2:ffff::9", "a")
    assert throttle.client_key("2001:db8:1:3::1", "a") != throttle.client_key("2001:db8:1:2::1", "a")
    assert throttle.client_key("::ffff:192.0.2.7", "a") == throttle.client_key("192.0.2.7", "a")


def test_behind_a_proxy_the_forwarded_address_counts(app, make_app):
    proxied = make_app(DATABASE=app.config["DATABASE"], TOKEN_GUESS_LIMIT=1, PROXY_COUNT=1).test_client()
    assert proxied.get("/i/guess", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 404
    assert proxied.get("/i/guess", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert proxied.get("/i/guess", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 404


def test_parallel_wrong_tokens_get_exactly_the_bucket(app, live_server, monkeypatch):
    """Counted before the lookup in one transaction: 64 parallel guesses against a bucket of 3 get 3 lookups."""
    import threading

    import requests

    lookups = []
    real = invitations.find_invitation

    def counted(*args, **kwargs):
        lookups.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(invitations, "find_invitation", counted)
    start = threading.Barrier(64)
    statuses = []

    def guess(n: int) -> None:
        start.wait()
        statuses.append(requests.get(f"{live_server}/i/guess-{n}", timeout=60).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lookups) == LIMIT
    assert sorted(statuses) == [404] * LIMIT + [429] * (64 - LIMIT)


class Clock:
    """A clock for the throttle alone, moved by the test."""

    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now


@pytest.mark.slow
def test_an_office_behind_one_address_is_never_locked_out_while_a_scan_is_stopped(make_app, monkeypatch):
    """Defaults: a bucket of 200 wrong tokens per address that refills in 2,000 s (one every 10 s).

    Simulated for a working day: the office (one address, hundreds of people) mistypes a link
    every 15 seconds on average, far more than any real office, and opens real invitations
    every 30 s; a scanner at another address tries 20 random tokens a second.
    """
    import random

    app = make_app()
    with app.app_context():
        db = get_db()
        survey = surveys.create_survey(
            db,
            app.extensions["instrument"],
            title="Office",
            language="en",
            slug="office",
            departments=[{"code": "A", "name": "All"}],
        )
        real = invitations.create_invitations(db, survey, surveys.department_by_code(db, survey, "A"), 40)
    clock = Clock(1_000_000_000.0)
    monkeypatch.setattr(throttle, "time", clock)
    client = app.test_client()
    office = {"REMOTE_ADDR": "203.0.113.10"}
    scanner = {"REMOTE_ADDR": "198.51.100.66"}
    rng = random.Random(14)
    statuses = {"typo": [], "real": [], "scan": []}
    start = clock.now
    day_end = clock.now + 8 * 3600
    next_real = clock.now
    while clock.now < day_end:
        clock.now += rng.expovariate(1 / 15)
        typo = f"{rng.choice(real)[:-3]}{rng.randrange(1000):03d}"  # a real link with its end mistyped
        statuses["typo"].append(client.get(f"/i/{typo}", environ_base=office).status_code)
        while next_real <= clock.now:
            next_real += 30
            statuses["real"].append(client.get(f"/i/{rng.choice(real)}", environ_base=office).status_code)
        if len(statuses["scan"]) < 2000:  # the scanner, at the same time, at 20 guesses a second
            for _ in range(20):
                scan = client.get(f"/i/{rng.getrandbits(192):048x}", environ_base=scanner).status_code
                statuses["scan"].append(scan)
            scan_seconds = clock.now - start
    assert len(statuses["typo"]) > 1500  # about 1,900 wrong tokens in the day
    assert set(statuses["typo"]) == {404} and set(statuses["real"]) == {303}  # never a 429 for the office
    allowed = statuses["scan"].count(404)
    # The bucket, then one guess per 10 s of the scan: over 90 % of its guesses are refused.
    assert 200 <= allowed <= 200 + scan_seconds / 10 + 1 and allowed < 0.2 * len(statuses["scan"])
    assert statuses["scan"].count(429) == len(statuses["scan"]) - allowed
