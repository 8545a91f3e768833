"""Where messages go: the Outbox (nothing configured), SMTP for email, Twilio for SMS.

Each provider sends one composed message and answers the provider's id for it, or raises
``TemporaryFailure`` (try again later: network, SMTP 4xx, Twilio 5xx/429) or
``PermanentFailure`` (do not: SMTP 5xx, an invalid number). The worker decides what follows
(``documents/sending.py``); providers keep no state.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..models import DeliveryChannel, OutboundMessage, OutboxItem


class DeliveryFailure(Exception):
    """The provider did not take the message; ``str()`` says why, for the history."""


class TemporaryFailure(DeliveryFailure):
    pass


class PermanentFailure(DeliveryFailure):
    pass


@dataclass
class Composed:
    """A message ready to go: the email (with its attachment) or the SMS text."""

    channel: DeliveryChannel
    recipient: str
    subject: str
    text: str
    email: EmailMessage | None = None
    extra: dict = field(default_factory=dict)


class OutboxProvider:
    """Keeps the message in the Outbox (Settings → Outbox) instead of sending it: the
    embedded default, so the demo works offline and nothing is silently dropped. Writing the
    item and marking the message sent share one transaction (``is_transactional``)."""

    name = "outbox"
    is_transactional = True

    def send(self, message: OutboundMessage, composed: Composed) -> str:
        item = OutboxItem(message_id=message.id, channel=composed.channel,
                          recipient=composed.recipient, subject=composed.subject[:200],
                          text=composed.text,
                          raw=composed.email.as_bytes() if composed.email else None,
                          created_at=utcnow())
        db.session.add(item)
        db.session.flush()
        return f"outbox-{item.id}"


def _smtp_failure(code: int, text) -> DeliveryFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kind = PermanentFailure if 500 <= code < 600 else TemporaryFailure
    return kind(f"SMTP {code}: {text}"[:300])


class SmtpProvider:
    """Email through an SMTP server: ``SMTP_URL`` (``smtp://user:pass@host:587``, STARTTLS
    when the server offers it, required before a password is sent to another machine;
    ``smtps://`` for TLS from the start) and ``MAIL_FROM``."""

    name = "smtp"
    is_transactional = False

    def __init__(self, url: str, timeout: float = 20) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise RuntimeError(f"SMTP_URL must be smtp://[user:pass@]host[:port], not {url!r}")
        self.is_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.is_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        if self.is_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        elif self.username and self.host not in ("127.0.0.1", "localhost", "::1"):
            client.quit()
            raise PermanentFailure(f"{self.host} does not offer STARTTLS: the password is "
                                   "not sent in clear text (use smtps:// or a TLS server).")
        return client

    def send(self, message: OutboundMessage, composed: Composed) -> str:
        email = composed.email
        try:
            client = self._connect()
            try:
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(email)
            finally:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    client.quit()
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _smtp_failure(code, text) from error
        except smtplib.SMTPResponseException as error:
            raise _smtp_failure(error.smtp_code, error.smtp_error) from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(f"SMTP server not reached: {error}"[:300]) from error
        if refused:
            code, text = next(iter(refused.values()))
            raise _smtp_failure(code, text)
        return email["Message-ID"]


class TwilioProvider:
    """SMS through Twilio (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_FROM``);
    ``TWILIO_API_BASE`` points the SDK at another address (tests: a loopback server)."""

    name = "twilio"
    is_transactional = False

    def __init__(self, sid: str, token: str, sender: str, api_base: str | None = None,
                 timeout: float = 20) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        class _HttpClient(TwilioHttpClient):
            def request(self, method, url, *args, **kwargs):
                if api_base:
                    url = url.replace("https://api.twilio.com", api_base.rstrip("/"))
                return super().request(method, url, *args, **kwargs)

        self.client = Client(sid, token, http_client=_HttpClient(timeout=timeout))
        self.sender = sender

    def send(self, message: OutboundMessage, composed: Composed) -> str:
        from requests import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            sent = self.client.messages.create(to=composed.recipient, from_=self.sender,
                                               body=composed.text)
        except TwilioRestException as error:
            text = f"Twilio {error.status}" + (f" ({error.code})" if error.code else "") + \
                f": {error.msg}"
            if error.status == 429 or error.status >= 500:
                raise TemporaryFailure(text[:300]) from error
            raise PermanentFailure(text[:300]) from error
        except (RequestException, TwilioException, OSError) as error:
            raise TemporaryFailure(f"Twilio not reached: {error}"[:300]) from error
        return sent.sid

    def find_sent(self, message: OutboundMessage, since: datetime) -> str | None:
        """The sid of an SMS Twilio already accepted for ``message`` (its reference is in
        the text), when the answer was lost; None when Twilio has none."""
        from requests import RequestException
        from twilio.base.exceptions import TwilioException

        try:
            found = self.client.messages.list(to=message.recipient, date_sent_after=since,
                                              limit=200)
        except (RequestException, TwilioException, OSError) as error:
            raise TemporaryFailure(f"Twilio not reached: {error}"[:300]) from error
        for sms in found:
            if message.reference and message.reference in (sms.body or ""):
                return sms.sid
        return None


def provider_for(channel: DeliveryChannel):
    """The provider of ``channel`` as configured: SMTP / Twilio when set, else the Outbox.
    Made once per app (the Twilio client keeps its connection pool)."""
    app = current_app
    cache = app.extensions.setdefault("delivery_providers", {})
    if channel not in cache:
        config = app.config
        if channel is DeliveryChannel.EMAIL and config.get("SMTP_URL"):
            cache[channel] = SmtpProvider(config["SMTP_URL"],
                                          timeout=float(config.get("DELIVERY_TIMEOUT", 20)))
        elif channel is DeliveryChannel.SMS and config.get("TWILIO_ACCOUNT_SID"):
            cache[channel] = TwilioProvider(config["TWILIO_ACCOUNT_SID"],
                                            config.get("TWILIO_AUTH_TOKEN") or "",
                                            config.get("TWILIO_FROM") or "",
                                            api_base=config.get("TWILIO_API_BASE"),
                                            timeout=float(config.get("DELIVERY_TIMEOUT", 20)))
        else:
            cache[channel] = OutboxProvider()
    return cache[channel]
