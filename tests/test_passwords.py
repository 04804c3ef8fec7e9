"""Password rules (NIST SP 800-63B): long enough, not common, not built on the account or the app, each with why."""

from __future__ import annotations

import pytest
from helpers import login

from survey import accounts, passwords
from survey.db import get_db

EMAIL = "kari.nordmann@acme.no"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaa", "at least 15 characters (this one has 10)"),  # the example
        ("aaaaaaaaaaaaaaaa", "repeats itself"),
        ("passwordpassword", "repeats itself"),
        ("Summer2024Summer2024", "repeats itself"),
        ("123456789012345", "sequence"),
        ("abcdefghijklmnopq", "sequence"),
        ("qazwsxedcrfvtgb", "on a list of common passwords"),
        ("1qaz2wsx3edc4rfv", "on a list of common passwords"),
        ("internationalization", "on a list of common passwords"),
        ("Password1234567!", "common password or word with digits or symbols added"),
        ("password12345678", "common password or word with digits or symbols added"),
        ("qwertyuiopasdfgh", "made of common passwords"),
        ("kari.nordmann@acme.no", "built on your e-mail address"),
        ("KariNordmann2024!!", "built on your e-mail address"),
        ("acme acme acme 2026", "built on your e-mail address"),
        ("engagement pyramid 2026", "the app's name"),
        ("Engasjementspyramiden1", "the app's name"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    with pytest.raises(passwords.PasswordRefused) as refused:
        passwords.check(password, EMAIL)
    assert reason in str(refused.value), str(refused.value)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "lantern orchard pebble",
        "kaffe og boller på fredag",  # any language, spaces allowed, no digits or capitals required
        "8472 9910 3345 1127",
        "Tr0ub4dor&3 horse",
        "ørret i fjellvann ved Gjende",
        "a sentence that is much longer than sixty-four characters, as NIST asks verifiers to allow",
        "é" * 3 + " lyrisk sommerfugl",
    ],
)
def test_long_unusual_passwords_are_accepted(password):
    assert passwords.check(password, EMAIL) == passwords.normalise(password)


def test_length_counts_after_normalisation():
    # U+FB01 (the "fi" ligature) is two letters after NFKC; a combining accent joins its letter.
    assert passwords.normalise("\ufb01") == "fi"
    with pytest.raises(passwords.PasswordRefused, match="this one has 14"):
        passwords.check("e\u0301" * 14, EMAIL)


def test_users_create_refuses_a_weak_password_with_the_reason(runner, db):
    for weak, reason in [("aaaaaaaaaaaaaaaa", "repeats itself"), ("new.person@example.org1", "e-mail address")]:
        result = runner.invoke(
            args=["users", "create", "new.person@example.org", "--role", "hr", "--password-stdin"], input=weak + "\n"
        )
        assert result.exit_code == 1 and reason in result.output, result.output
    assert not db["users"].count_where("email = 'new.person@example.org'")
    result = runner.invoke(
        args=["users", "create", "new.person@example.org", "--role", "hr", "--password-stdin"],
        input="velvet thunder kettle\n",
    )
    assert result.exit_code == 0, result.output


def test_a_password_is_normalised_before_hashing_so_any_keyboard_can_log_in(app, client):
    # The same password typed as a composed "é" and as "e" plus a combining accent.
    composed, decomposed = "caf\u00e9 au lait sur la terrasse", "cafe\u0301 au lait sur la terrasse"
    with app.app_context():
        accounts.create_user(get_db(), "barista@example.org", composed, "facilitator")
    assert login(client, "barista@example.org", decomposed).status_code == 302
