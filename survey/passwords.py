"""Password rules after NIST SP 800-63B: length over composition, no common passwords, nothing built on context.

- At least MIN_LENGTH (15) characters: SP 800-63B-4 asks for 15 when a password is the only
  factor, as here. No rules about digits, capitals or symbols: they make people write
  "Password1!", not stronger passwords. Up to MAX_LENGTH (1024, far above the 64 asked for)
  characters of any kind, spaces included, counted after Unicode NFKC normalisation.
- Not on a list of common or breached passwords: the 30,000 most common passwords of leaked
  password sets, and common English words, names and film words, as zxcvbn ships them. Only
  about 30 of the leaked passwords are 15 characters long, so the check also refuses a password
  *built* from such parts: zxcvbn takes it apart into common passwords, words, keyboard walks,
  repetitions, sequences and dates, and a password that comes out among the first
  GUESSES_AT_LEAST (10^8) guesses of that attack is refused, naming the weakest part.
- Not built on its context: the account's e-mail address, its parts, or the app's name, with a
  few characters around them ("engagement-pyramid-2026").
"""

from __future__ import annotations

import functools
import re
import unicodedata

from flask_babel import gettext as _

MIN_LENGTH = 15
MAX_LENGTH = 1024
GUESSES_AT_LEAST = 10**8
# What zxcvbn can take apart; beyond it a password is long enough that its start decides.
ZXCVBN_MAX = 72
APP_WORDS = (
    "engagement",
    "pyramid",
    "engagementpyramid",
    "engasjement",
    "engasjementspyramiden",
    "pyramiden",
    "survey",
    "undersøkelse",
)
# A password left with fewer than this many letters or digits once the context words are taken out
# is the context with a few characters around it.
CONTEXT_REST = 8


class PasswordRefused(ValueError):
    """The password breaks a rule; the message says which and why."""


def normalise(password: str) -> str:
    """Return the password in Unicode NFKC form (the same text typed on any device hashes the same)."""
    return unicodedata.normalize("NFKC", password)


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word for words in FREQUENCY_LISTS.values() for word in words)


def context_words(email: str) -> list[str]:
    """Return the words an attacker tries first for this account: its e-mail, its parts, the app's name."""
    email = email.strip().lower()
    local, _at, domain = email.partition("@")
    words = [email, local, *re.split(r"[._+-]+", local), domain, *domain.split("."), *APP_WORDS]
    return sorted({w for w in words if len(w) >= 3}, key=len, reverse=True)


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _weakest_part(sequence: list[dict]) -> str:
    """Say in words what made zxcvbn's guess quick, from the parts it found."""
    patterns = {m["pattern"] for m in sequence}
    names = {m.get("dictionary_name") for m in sequence if m["pattern"] == "dictionary"}
    if "repeat" in patterns:
        return _("it repeats itself (like “aaaa” or “abcabc”)")
    if "sequence" in patterns:
        return _("it is built on a sequence (like “abcd” or “1234”)")
    if "spatial" in patterns:
        return _("it follows the keyboard (like “qwerty” or “asdfgh”)")
    if "passwords" in names:
        return _("it is made of common passwords")
    if "date" in patterns or "regex" in patterns:
        return _("it is built on dates or years")
    return _("it is made of common words or names only")


def check(password: str, email: str = "") -> str:
    """Return the normalised password when it may be used, or raise PasswordRefused saying why."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(
            _(
                "Use at least %(n)s characters (this one has %(have)s). A few unrelated words make a long password "
                "that is easy to remember; spaces are allowed.",
                n=MIN_LENGTH,
                have=len(password),
            )
        )
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    plain = _letters(password)
    common = _common()
    if password.lower() in common or plain in common:
        raise PasswordRefused(
            _("This password is on a list of common passwords and words that attackers try first; choose another.")
        )
    word = "".join(ch for ch in plain if not ch.isdigit())
    if word in common:
        # "Password2024!" and "SuperSecret12345": a listed password with digits or symbols around it.
        raise PasswordRefused(
            _(
                "This password is a common password or word with digits or symbols added, which attackers try "
                "first; choose something else."
            )
        )
    rest = plain
    for word in context_words(email):
        rest = rest.replace(_letters(word), "") if _letters(word) else rest
    if rest != plain and len(rest) < CONTEXT_REST:
        raise PasswordRefused(
            _(
                "This password is built on your e-mail address or the app's name, which attackers try first; "
                "choose something unrelated."
            )
        )
    from zxcvbn import zxcvbn

    found = zxcvbn(password[:ZXCVBN_MAX], user_inputs=context_words(email))
    if found["guesses"] < GUESSES_AT_LEAST:
        raise PasswordRefused(
            _(
                "This password would be among the first guesses of an attacker: %(why)s. Add a few unrelated words.",
                why=_weakest_part(found["sequence"]),
            )
        )
    return password
