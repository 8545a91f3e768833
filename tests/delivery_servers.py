"""Real servers on loopback for delivery tests (a pytest plugin): an SMTP server (aiosmtpd)
and a Twilio-compatible HTTP server, each started once per test worker on a free port and
emptied before each test that uses it.

- ``smtp_server``: keeps every message it accepted (``.messages``: parsed ``EmailMessage``s
  with their envelope); ``.reject = "451 ..."`` or ``"550 ..."`` answers every recipient so;
  ``.stop()`` / ``.start()`` take it off the port and back (connection refused meanwhile).
- ``twilio_server``: answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` with 201 and
  a sid (``.status = 400 / 429 / 500`` answers that instead), keeps every request
  (``.requests``) and the accepted messages (``.accepted``), and lists them on ``GET``
  (``to=`` filter), as Twilio does.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.server.reject:
            return self.server.reject
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.messages.append(message)
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list = []
        self.envelopes: list = []
        self.reject: str | None = None
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def reset(self) -> None:
        self.messages.clear()
        self.envelopes.clear()
        self.reject = None
        self.start()


class TwilioServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.status = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                outer.requests.append({"path": self.path, "form": form,
                                       "auth": self.headers.get("Authorization")})
                if outer.status != 201:
                    code = {400: 21211, 429: 20429, 500: 20500}.get(outer.status, 0)
                    return self._answer(outer.status, {
                        "code": code, "status": outer.status,
                        "message": "The 'To' number is not a valid phone number."
                        if outer.status == 400 else "Try again later", "more_info": ""})
                sid = f"SM{len(outer.accepted) + 1:032d}"
                message = {"sid": sid, "status": "queued", "to": form.get("To"),
                           "from": form.get("From"), "body": form.get("Body"),
                           "date_sent": None, "date_created": None,
                           "account_sid": self.path.split("/")[3]}
                outer.accepted.append(message)
                return self._answer(201, message)

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                found = [m for m in outer.accepted
                         if "To" not in query or m["to"] == query["To"]]
                return self._answer(200, {"messages": found, "next_page_uri": None,
                                          "page": 0, "page_size": 200, "uri": parts.path})

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        self.requests.clear()
        self.accepted.clear()
        self.status = 201


@pytest.fixture(scope="session")
def _smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(_smtp_server):
    _smtp_server.reset()
    yield _smtp_server
    _smtp_server.reset()


@pytest.fixture(scope="session")
def _twilio_server():
    server = TwilioServer()
    yield server
    server.server.shutdown()


@pytest.fixture
def twilio_server(_twilio_server):
    _twilio_server.reset()
    return _twilio_server
