"""The payment processor as the tests see it, whichever gateway the panel runs on.

Action tests run twice: on the offline gateway and on the Stripe gateway against localstripe
(``gateway_kind``). They talk to the processor through the ``processor`` fixture, never to a
gateway's internals:

- ``processor.set_down(True)``: the processor cannot be reached; nothing reaches it.
- ``processor.losing_answers()``: a context in which the processor does what it is asked but
  its answers are lost on the way back (a timeout after the fact), the case reconciliation
  exists for.
- ``processor.charge(gateway_id)``: what the processor itself holds for a charge (amount,
  amount refunded, currency, whether it succeeded), to check the panel's records against.
- ``processor.count_charges()`` / ``count_refunds()``: how many the processor made.

For Stripe, the faults are made by a small HTTP proxy on loopback between the panel and
localstripe (``FaultyProxy``): in "down" mode it answers 503 without forwarding; in "lose" mode
it forwards the request, lets localstripe carry it out, then answers 502.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from admin_app.payments import get_gateway


@dataclass(frozen=True)
class ProcessorCharge:
    amount_minor: int
    refunded_minor: int
    currency: str
    succeeded: bool


class FaultyProxy:
    """A loopback HTTP proxy in front of ``target`` that can fail on demand."""

    def __init__(self, target: str) -> None:
        self.target, self.mode = target.rstrip("/"), "pass"
        self._upstream = threading.local()  # a kept connection to the target per thread
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the SDK keeps its connection
            disable_nagle_algorithm = True  # headers and body go out apart: no 40 ms wait

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.mode == "down":
                    return self._answer(503, b'{"error": {"message": "Service unavailable"}}')
                status, answer = proxy.forward(self.command, self.path, self.headers, body)
                if proxy.mode == "lose":
                    return self._answer(502, b'{"error": {"message": "Bad gateway"}}')
                return self._answer(status, answer)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, bytes]:
        headers = {k: v for k, v in headers.items()
                   if k.lower() not in {"host", "content-length", "connection"}}
        for attempt in (1, 2):
            conn = getattr(self._upstream, "conn", None)
            if conn is None:
                target = urllib.parse.urlsplit(self.target)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                self._upstream.conn = conn
            try:
                conn.request(method, path, body=body if method != "GET" else None,
                             headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The target closed a kept connection before reading the request: send it on
                # a new one, once.
                conn.close()
                self._upstream.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class OfflineProcessor:
    kind = "offline"

    def set_down(self, is_down: bool) -> None:
        get_gateway().set_down(is_down)

    @contextmanager
    def losing_answers(self):
        get_gateway().set_losing_answers(True)
        try:
            yield
        finally:
            get_gateway().set_losing_answers(False)

    def charge(self, gateway_id: str) -> ProcessorCharge:
        record = get_gateway().charge_record(gateway_id)
        return ProcessorCharge(record.amount_minor, record.amount_refunded_minor,
                               record.currency.upper(), record.status == "succeeded")

    def count_charges(self) -> int:
        return get_gateway().count("charge")

    def succeeded_charges(self) -> dict[str, ProcessorCharge]:
        """Every charge the processor made, by its id."""
        from admin_app.payments.offline import charges

        with get_gateway().engine.connect() as conn:
            return {row.id: self.charge(row.id) for row in conn.execute(
                charges.select().where(charges.c.status == "succeeded"))}

    def count_refunds(self) -> int:
        return get_gateway().count("refund")

    def is_card_detached(self, gateway_id: str) -> bool:
        from admin_app.payments.offline import cards

        with get_gateway().engine.connect() as conn:
            return conn.execute(cards.select().where(cards.c.id == gateway_id)).first() \
                .is_detached


class StripeProcessor:
    """localstripe, reached by the panel through a ``FaultyProxy``."""

    kind = "stripe"

    def __init__(self, base: str, proxy: FaultyProxy) -> None:
        self.base, self.proxy = base, proxy

    def set_down(self, is_down: bool) -> None:
        self.proxy.mode = "down" if is_down else "pass"

    @contextmanager
    def losing_answers(self):
        self.proxy.mode = "lose"
        try:
            yield
        finally:
            self.proxy.mode = "pass"

    def _get(self, path: str) -> dict:
        request = urllib.request.Request(self.base + path,
                                         headers={"Authorization": "Bearer sk_test_x"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def _post(self, path: str, data: dict) -> dict:
        request = urllib.request.Request(self.base + path, method="POST",
                                         data=urllib.parse.urlencode(data).encode(),
                                         headers={"Authorization": "Bearer sk_test_x"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def refund_directly(self, gateway_id: str, amount_minor: int) -> str:
        """Refund at Stripe without the panel, as an admin in Stripe's dashboard would."""
        return self._post("/v1/refunds", {"payment_intent": gateway_id,
                                          "amount": amount_minor})["id"]

    def confirm_card_setup(self, setup_id: str, payment_method: str = "pm_card_visa") -> dict:
        """Confirm a SetupIntent as Stripe.js does in the member's browser; the SetupIntent."""
        return self._post(f"/v1/setup_intents/{setup_id}/confirm",
                          {"payment_method": payment_method})

    def charge(self, gateway_id: str) -> ProcessorCharge:
        intent = self._get(f"/v1/payment_intents/{gateway_id}")
        refunds = self._get(f"/v1/refunds?payment_intent={gateway_id}&limit=100")["data"]
        return ProcessorCharge(intent["amount"],
                               sum(r["amount"] for r in refunds if r["status"] == "succeeded"),
                               intent["currency"].upper(), intent["status"] == "succeeded")

    def _count(self, path: str) -> int:
        """How many objects a list endpoint holds, page by page as Stripe's API pages them: a
        single page of up to 1000 PaymentIntents (the demo makes hundreds) could take longer
        than a request's timeout on a loaded machine."""
        count, after = 0, ""
        while True:
            page = self._get(f"{path}?limit=100{after}")
            count += len(page["data"])
            if not page["has_more"] or not page["data"]:
                return count
            after = f"&starting_after={page['data'][-1]['id']}"

    def count_charges(self) -> int:
        return self._count("/v1/payment_intents")

    def succeeded_charges(self) -> dict[str, ProcessorCharge]:
        """Every charge the processor made, by its id."""
        return {intent["id"]: self.charge(intent["id"])
                for intent in self._get("/v1/payment_intents?limit=1000")["data"]
                if intent["status"] == "succeeded"}

    def count_refunds(self) -> int:
        return self._count("/v1/refunds")

    def is_card_detached(self, gateway_id: str) -> bool:
        return self._get(f"/v1/payment_methods/{gateway_id}")["customer"] is None


def stripe_config(base_url: str) -> dict:
    """The panel's settings for the Stripe gateway at ``base_url``."""
    return {"PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_API_BASE": base_url}
