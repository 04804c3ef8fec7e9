"""Production serving helpers: an access log that never records invitation tokens."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_TOKEN_PATH = re.compile(r"^/i/[^/?]+")


class TokenScrubbingLogger(Logger):
    """gunicorn's logger, with /i/<token> written as /i/… in the access log."""

    def atoms(self, resp, req, environ, request_time):
        """Return the access-log fields with personal invitation tokens removed."""
        atoms = super().atoms(resp, req, environ, request_time)
        if isinstance(atoms.get("U"), str):
            atoms["U"] = _TOKEN_PATH.sub("/i/…", atoms["U"])
        if "r" in atoms and isinstance(atoms["r"], str):
            atoms["r"] = re.sub(r" /i/[^/? ]+", " /i/…", atoms["r"])
        return atoms
