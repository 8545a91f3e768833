"""The embedded offline gateway: a small payment processor of our own, for running the panel
without a Stripe account and for tests.

It keeps its own records in its own database (``OFFLINE_GATEWAY_URL``, by default a SQLite file
in the instance folder), apart from the panel's, as a real processor would: a charge it made
stays made even if the panel's transaction rolls back. It honours idempotency keys as Stripe
does (a replay gets the first answer; a key reused for a different request is refused,
``idempotency_key_in_use``) and treats Stripe's test cards as Stripe does:

- 4242 4242 4242 4242 and other valid numbers: charges succeed
- 4000 0000 0000 0341: saves, then declines when charged (``card_declined``)
- 4000 0025 0000 3155: charges need the card holder's authentication (``requires_action``)
- 4000 0000 0000 0002: declined when saved
- 4000 0000 0000 9987: saves, then declines when charged as a lost card (``lost_card``, a hard
  decline)

``set_down(True)`` simulates the processor being unreachable (every call raises
``GatewayUnavailable``, nothing is done) until ``set_down(False)``. ``set_losing_answers(True)``
simulates the worse case of a timeout: the processor does the work, but its answer never comes
back (``GatewayUnavailable`` after the fact), which is what ``payments reconcile`` is for.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from functools import cache

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

from .gateway import (
    CardDetails,
    CardRejected,
    ChargeResult,
    ChargeStatus,
    GatewayRefused,
    GatewayUnavailable,
    RefundResult,
    SavedCard,
)

DECLINE_ON_CHARGE = "4000000000000341"
REQUIRES_AUTHENTICATION = "4000002500003155"
DECLINE_ON_SAVE = "4000000000000002"
LOST_CARD = "4000000000009987"

metadata = MetaData()
customers = Table("customer", metadata, Column("id", String(40), primary_key=True),
                  Column("email", String(254)), Column("name", String(200)))
cards = Table("card", metadata, Column("id", String(40), primary_key=True),
              Column("customer_id", String(40), nullable=False),
              Column("number", String(19), nullable=False), Column("brand", String(20)),
              Column("exp_month", Integer), Column("exp_year", Integer),
              Column("is_detached", Boolean, nullable=False, default=False))
charges = Table("charge", metadata, Column("id", String(40), primary_key=True),
                Column("customer_id", String(40)), Column("card_id", String(40)),
                Column("amount_minor", Integer, nullable=False),
                Column("currency", String(3), nullable=False),
                Column("status", String(20), nullable=False),
                Column("amount_refunded_minor", Integer, nullable=False, default=0),
                Column("description", String(300)))
refunds = Table("refund", metadata, Column("id", String(40), primary_key=True),
                Column("charge_id", String(40), nullable=False),
                Column("amount_minor", Integer, nullable=False))
idempotency = Table("idempotency", metadata, Column("key", String(120), primary_key=True),
                    Column("response", JSON, nullable=False),
                    Column("request", String(64)))
switches = Table("switch", metadata, Column("name", String(40), primary_key=True),
                 Column("is_on", Boolean, nullable=False))


@cache
def _engine(url: str, timeout: float = 20) -> Engine:
    engine = create_engine(url, connect_args={"timeout": timeout} if url.startswith("sqlite")
                           else {})
    metadata.create_all(engine)
    with engine.begin() as conn:  # a gateway database kept from before requests were compared
        if "request" not in {c["name"] for c in inspect(conn).get_columns("idempotency")}:
            conn.execute(text("ALTER TABLE idempotency ADD COLUMN request VARCHAR(64)"))
    return engine


def _fingerprint(request: dict) -> str:
    """What a request asked, to compare a replay of its idempotency key with."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


KEY_IN_USE = ("Keys for idempotent requests can only be used with the same parameters they "
              "were first used with.")


def _new_id(prefix: str) -> str:
    return f"{prefix}_off_{secrets.token_hex(8)}"


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:4].isdigit() and \
            2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "card"


class OfflineGateway:
    name = "offline"

    def __init__(self, url: str, *, timeout: float = 20) -> None:
        self.engine = _engine(url, timeout)

    # --- the failure switch -------------------------------------------------------------
    def set_down(self, is_down: bool) -> None:
        self._switch("down", is_down)

    def set_losing_answers(self, is_losing: bool) -> None:
        self._switch("lose_answers", is_losing)

    def _switch(self, name: str, is_on: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(switches.delete().where(switches.c.name == name))
            conn.execute(insert(switches).values(name=name, is_on=is_on))

    @staticmethod
    def _is_on(conn: Connection, name: str) -> bool:
        return bool(conn.scalar(select(switches.c.is_on).where(switches.c.name == name)))

    def _check_up(self, conn: Connection) -> None:
        if self._is_on(conn, "down"):
            raise GatewayUnavailable("The offline payment processor is down (simulated).")

    def _once(self, key: str, request: dict, make) -> dict:
        """Run ``make(conn)`` once per idempotency key; replay its stored response after.

        As Stripe does, a replay must ask the same thing: a key used before for a different
        ``request`` is refused (``{"error": "idempotency_key_in_use"}``), and nothing is done.
        """
        asked = _fingerprint(request)
        with self.engine.begin() as conn:
            self._check_up(conn)
            stored = conn.execute(select(idempotency.c.response, idempotency.c.request)
                                  .where(idempotency.c.key == key)).first()
            if stored is not None and stored.request not in (None, asked):
                return {"error": "idempotency_key_in_use", "message": KEY_IN_USE}
            if stored is not None:
                response = stored.response
                response = response if isinstance(response, dict) else json.loads(response)
            else:
                response = make(conn)
                conn.execute(insert(idempotency).values(key=key, response=response,
                                                        request=asked))
            is_losing = self._is_on(conn, "lose_answers")
        if is_losing:  # done and committed, but the caller never hears about it
            raise GatewayUnavailable("The offline payment processor did not answer (simulated).")
        return response

    # --- the gateway interface ----------------------------------------------------------
    def create_customer(self, *, email, name, idempotency_key):
        def make(conn):
            customer_id = _new_id("cus")
            conn.execute(insert(customers).values(id=customer_id, email=email, name=name))
            return {"id": customer_id}

        response = self._once(f"customer:{idempotency_key}", {"email": email, "name": name}, make)
        if "error" in response:
            raise GatewayRefused(response["message"])
        return response["id"]

    def save_card(self, customer_id, card: CardDetails, *, idempotency_key):
        number = card.digits

        def make(conn):
            if card.number_problem():
                return {"error": "invalid_number", "message": card.number_problem()}
            if number == DECLINE_ON_SAVE:
                return {"error": "card_declined", "message": "Your card was declined."}
            card_id = _new_id("pm")
            conn.execute(insert(cards).values(
                id=card_id, customer_id=customer_id, number=number, brand=_brand(number),
                exp_month=card.exp_month, exp_year=card.exp_year, is_detached=False))
            return {"id": card_id, "brand": _brand(number), "last4": number[-4:]}

        response = self._once(f"card:{idempotency_key}",
                              {"customer": customer_id, "number": number,
                               "exp": [card.exp_month, card.exp_year]}, make)
        if "error" in response:
            raise CardRejected(response["error"], response["message"])
        return SavedCard(response["id"], response["brand"], response["last4"], card.exp_month,
                         card.exp_year)

    def detach_card(self, card_gateway_id):
        with self.engine.begin() as conn:
            self._check_up(conn)
            conn.execute(update(cards).where(cards.c.id == card_gateway_id)
                         .values(is_detached=True))

    def charge(self, *, customer_id, card_gateway_id, amount_minor, currency, description,
               idempotency_key):
        def make(conn):
            card = conn.execute(select(cards).where(cards.c.id == card_gateway_id)).first()
            charge_id = _new_id("ch")
            if card is None or card.is_detached or card.customer_id != customer_id:
                status, code, message = "declined", "no_card", "No such card on this customer."
            elif card.number == DECLINE_ON_CHARGE:
                status, code, message = "declined", "card_declined", "Your card was declined."
            elif card.number == LOST_CARD:
                status, code, message = "declined", "lost_card", "The card was reported lost."
            elif card.number == REQUIRES_AUTHENTICATION:
                status, code, message = ("requires_action", "authentication_required",
                                         "The card holder must authenticate this payment.")
            else:
                status, code, message = "succeeded", None, None
            conn.execute(insert(charges).values(
                id=charge_id, customer_id=customer_id, card_id=card_gateway_id,
                amount_minor=amount_minor, currency=currency, status=status,
                amount_refunded_minor=0, description=description))
            return {"id": charge_id, "status": status, "code": code, "message": message}

        r = self._once(f"charge:{idempotency_key}",
                       {"customer": customer_id, "card": card_gateway_id,
                        "amount": amount_minor, "currency": currency}, make)
        if "error" in r:
            return ChargeResult(ChargeStatus.DECLINED, None, r["error"], r["message"])
        return ChargeResult(ChargeStatus(r["status"]), r["id"], r["code"], r["message"])

    def charge_on_session(self, **charge):
        # NOTE: no browser step here: a card needing authentication is refused as off-session.
        return self.charge(**charge)

    def refund(self, *, charge_gateway_id, amount_minor, currency, idempotency_key):
        def make(conn):
            charge = conn.execute(select(charges).where(charges.c.id == charge_gateway_id)
                                  .with_for_update()).first()
            if charge is None or charge.status != "succeeded":
                return {"ok": False, "message": "No succeeded charge to refund."}
            if charge.currency != currency:
                return {"ok": False, "message": "Refund currency differs from the charge's."}
            if amount_minor > charge.amount_minor - charge.amount_refunded_minor:
                return {"ok": False, "message": "Refund exceeds what is left of the charge."}
            refund_id = _new_id("re")
            conn.execute(insert(refunds).values(id=refund_id, charge_id=charge.id,
                                                amount_minor=amount_minor))
            conn.execute(update(charges).where(charges.c.id == charge.id).values(
                amount_refunded_minor=charges.c.amount_refunded_minor + amount_minor))
            return {"ok": True, "id": refund_id}

        r = self._once(f"refund:{idempotency_key}",
                       {"charge": charge_gateway_id, "amount": amount_minor,
                        "currency": currency}, make)
        if "error" in r:
            return RefundResult(False, None, r["message"])
        return RefundResult(r["ok"], r.get("id"), r.get("message"))

    # --- reconciliation (answers that never came back) -----------------------------------
    def _stored(self, key: str) -> dict | None:
        with self.engine.connect() as conn:
            self._check_up(conn)
            stored = conn.scalar(select(idempotency.c.response).where(idempotency.c.key == key))
        if stored is None:
            return None
        return stored if isinstance(stored, dict) else json.loads(stored)

    def find_charge(self, *, customer_id, idempotency_key, gateway_id, since):
        r = self._stored(f"charge:{idempotency_key}")
        if r is None or "error" in r:
            return None
        return ChargeResult(ChargeStatus(r["status"]), r["id"], r["code"], r["message"])

    def find_refund(self, *, charge_gateway_id, idempotency_key):
        r = self._stored(f"refund:{idempotency_key}")
        if r is None:
            return None
        return RefundResult(r["ok"], r.get("id"), r.get("message"))

    # --- for tests ------------------------------------------------------------------------------
    def charge_record(self, charge_gateway_id: str):
        with self.engine.connect() as conn:
            return conn.execute(select(charges).where(charges.c.id == charge_gateway_id)).first()

    def count(self, table_name: str) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(metadata.tables[table_name])).all())

    # --- card setup (the member's payment-method link) ----------------------------------
    # No processor script runs in the member's browser: the member's page posts the card to
    # the panel, which saves it with ``save_card`` (test cards behave as listed above).
    collects_cards_in_browser = False

    def start_card_setup(self, customer_id, *, idempotency_key, source=None):
        raise NotImplementedError("The offline gateway has no browser card setup: the "
                                  "member's page posts the card, saved with save_card.")

    def finish_card_setup(self, customer_id, setup_id):
        raise NotImplementedError("The offline gateway has no browser card setup: the "
                                  "member's page posts the card, saved with save_card.")
