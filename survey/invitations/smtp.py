"""SMTP mail: settings from FLASK_SMTP_*, one connection per batch, messages from templates in nb and en."""

from __future__ import annotations

import email.policy
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import render_template
from flask_babel import gettext as _

TLS_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class MailConfigError(ValueError):
    """The SMTP settings are incomplete or wrong; the message says which variable to fix."""


class TemporaryMailError(Exception):
    """The server or the connection failed before the message was handed over; try again later."""


class RecipientRefused(Exception):
    """The server refused this recipient or message for good (a 5xx reply)."""


class Unconfirmed(Exception):
    """The connection broke while the message was handed over: it may or may not have been accepted."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    host: str
    port: int
    tls: str
    user: str
    password: str = field(repr=False)
    sender: str
    timeout: float


def _text(value: object) -> str:
    # from_prefixed_env parses values as JSON: a numeric password arrives as an int.
    return "" if value is None else str(value).strip()


def smtp_settings(config: Mapping) -> SmtpSettings | None:
    """Return the SMTP settings, or None when FLASK_SMTP_HOST is not set; raise MailConfigError when they are wrong."""
    host = _text(config.get("SMTP_HOST"))
    if not host:
        return None
    tls = _text(config.get("SMTP_TLS") or "starttls").lower()
    if tls not in TLS_MODES:
        raise MailConfigError(_("FLASK_SMTP_TLS must be none, starttls or ssl (got %(value)r).", value=tls))
    port = config.get("SMTP_PORT") or DEFAULT_PORTS[tls]
    try:
        port = int(port)
    except (TypeError, ValueError) as exc:
        raise MailConfigError(_("FLASK_SMTP_PORT must be a port number (got %(value)r).", value=port)) from exc
    if not 0 < port < 65536:
        raise MailConfigError(_("FLASK_SMTP_PORT must be a port number (got %(value)s).", value=port))
    sender = _text(config.get("SMTP_SENDER"))
    address = parseaddr(sender)[1]
    if not sender or "@" not in address or re.search(r"[\r\n]", sender):
        raise MailConfigError(_("Set FLASK_SMTP_SENDER to the From address, e.g. 'HR <hr@example.org>'."))
    user, password = _text(config.get("SMTP_USER")), _text(config.get("SMTP_PASSWORD"))
    if password and not user:
        raise MailConfigError(_("FLASK_SMTP_PASSWORD is set but FLASK_SMTP_USER is not."))
    timeout = float(config.get("SMTP_TIMEOUT") or 30)
    return SmtpSettings(host, port, tls, user, password, sender, timeout)


def _one_line(text: str) -> str:
    # A subject comes partly from the survey title: no line break may reach the headers.
    return " ".join(text.split())


def render_message(settings: SmtpSettings, recipient: str, template: str, **context: object) -> EmailMessage:
    """Render a mail template (first line 'Subject: ...', a blank line, the body) into a message."""
    text = render_template(template, **context)
    head, _sep, body = text.lstrip().partition("\n\n")
    if not head.startswith("Subject:"):
        raise ValueError(f"{template} must start with a 'Subject:' line")
    msg = EmailMessage()
    name, address = parseaddr(settings.sender)
    msg["From"] = Address(display_name=name, addr_spec=address) if name else address
    msg["To"] = recipient
    msg["Subject"] = _one_line(head.removeprefix("Subject:"))
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    # Quoted-printable keeps æ, ø and å intact through servers without 8BITMIME.
    msg.set_content(body.strip() + "\n", cte="quoted-printable")
    return msg


def _refusal(code: int, reply: bytes | str, what: str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{what}: {code} {text}".strip()
    return RecipientRefused(message) if 500 <= code < 600 else TemporaryMailError(message)


class Mailer:
    """An open SMTP connection that sends one message at a time and says how each one failed."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection, with TLS and login as configured."""
        s = self.settings
        context = ssl.create_default_context()
        try:
            if s.tls == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.tls == "starttls":
                    smtp.starttls(context=context)
            if s.user:
                smtp.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailConfigError(_("The SMTP server refused FLASK_SMTP_USER / FLASK_SMTP_PASSWORD.")) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise MailConfigError(
                _("The SMTP server does not support this (check FLASK_SMTP_TLS): %(error)s", error=exc)
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryMailError(
                _("Could not connect to %(host)s:%(port)s: %(error)s", host=s.host, port=s.port, error=exc)
            ) from exc
        self.smtp = smtp

    def close(self) -> None:
        """Say goodbye to the server, ignoring a connection that is gone already."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def _envelope(self, sender: str, recipient: str) -> None:
        assert self.smtp is not None
        self.smtp.ehlo_or_helo_if_needed()
        code, reply = self.smtp.mail(sender)
        if code != 250:
            self._reset()
            # A refused sender is a problem of the settings, not of this recipient.
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            raise TemporaryMailError(
                _(
                    "The server refused the sender %(sender)s (check FLASK_SMTP_SENDER): %(code)s %(reply)s",
                    sender=sender,
                    code=code,
                    reply=text,
                )
            )
        code, reply = self.smtp.rcpt(recipient)
        if code not in (250, 251):
            self._reset()
            raise _refusal(code, reply, _("The server refused %(recipient)s", recipient=recipient))

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raise RecipientRefused, TemporaryMailError or Unconfirmed when it fails."""
        sender = parseaddr(self.settings.sender)[1]
        recipient = str(msg["To"])
        try:
            try:
                if self.smtp is None:
                    self.connect()
                self._envelope(sender, recipient)
            except smtplib.SMTPServerDisconnected:
                # Servers close idle or long-used connections; one fresh connection is normal.
                self.close()
                self.connect()
                self._envelope(sender, recipient)
        except (RecipientRefused, TemporaryMailError, MailConfigError):
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryMailError(
                _(
                    "Sending to %(recipient)s failed before the message went out: %(error)s",
                    recipient=recipient,
                    error=exc,
                )
            ) from exc
        assert self.smtp is not None
        try:
            code, reply = self.smtp.data(msg.as_bytes(policy=email.policy.SMTP))
        except smtplib.SMTPDataError as exc:
            raise _refusal(
                exc.smtp_code, exc.smtp_error, _("The server refused the message to %(recipient)s", recipient=recipient)
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise Unconfirmed(
                _("The connection broke while sending to %(recipient)s: %(error)s", recipient=recipient, error=exc)
            ) from exc
        if code != 250:
            # data() returns the server's final answer instead of raising: only 250 means accepted.
            self._reset()
            raise _refusal(code, reply, _("The server refused the message to %(recipient)s", recipient=recipient))

    def _reset(self) -> None:
        # After a refusal the session must be reset for the next message; a server that
        # hung up instead gets a fresh connection with the next message.
        if self.smtp is None:
            return
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()
