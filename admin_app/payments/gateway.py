"""What the business actions need from a payment processor, whatever the processor is.

Every call that moves money or creates something takes an ``idempotency_key`` derived from our
own row (``payment-42``, ``refund-7``): the same key gives the same result, never a second
charge. A processor that cannot be reached raises ``GatewayUnavailable``; a processor that
answers "no" returns a result whose ``status`` says so, with the processor's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class GatewayUnavailable(Exception):
    """The processor did not answer (down, timeout, 5xx). The outcome is unknown: keep the
    local record pending and reconcile later; never assume it failed or succeeded."""


class GatewayRefused(Exception):
    """The processor refused a request outright (e.g. an idempotency key reused for another
    request): nothing was done."""


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"  # the card holder must authenticate (3-D Secure)


def luhn_ok(digits: str) -> bool:
    """The card number's check digit is right (the Luhn algorithm every card number obeys)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass(frozen=True)
class CardDetails:
    """A card as typed at the desk. Only the gateway sees the full number."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str = ""

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.number if ch.isdigit())

    def number_problem(self) -> str | None:
        """Why the number cannot be a card's (12–19 digits, spaces and dashes aside, with a
        right check digit), or None. Checked before any processor is asked: a processor
        that validates nothing must not end up holding a mistyped card."""
        if any(not (ch.isdigit() or ch in " -") for ch in self.number.strip()):
            return "The card number may only contain digits."
        if not 12 <= len(self.digits) <= 19 or not luhn_ok(self.digits):
            return "The card number is not valid."
        return None


@dataclass(frozen=True)
class SavedCard:
    gateway_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    gateway_id: str | None
    failure_code: str | None = None
    failure_message: str | None = None
    # An on-session charge needing the card holder's authentication: the secret the member's
    # browser completes it with (never logged, never stored).
    client_secret: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is ChargeStatus.SUCCEEDED


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    gateway_id: str | None
    failure_message: str | None = None


class CardRejected(Exception):
    """The processor refused to save a card (invalid number, declined at setup)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class PaymentGateway(Protocol):
    name: str

    def create_customer(self, *, email: str | None, name: str, idempotency_key: str) -> str:
        """A customer at the processor; returns its id."""

    def save_card(self, customer_id: str, card: CardDetails, *,
                  idempotency_key: str) -> SavedCard:
        """Attach a card to the customer (raises ``CardRejected``)."""

    def detach_card(self, card_gateway_id: str) -> None:
        """Remove a saved card from the customer."""

    def charge(self, *, customer_id: str, card_gateway_id: str, amount_minor: int,
               currency: str, description: str, idempotency_key: str) -> ChargeResult:
        """Charge a saved card off-session."""

    def charge_on_session(self, *, customer_id: str, card_gateway_id: str, amount_minor: int,
                          currency: str, description: str,
                          idempotency_key: str) -> ChargeResult:
        """Charge a saved card with the card holder present (the sign-up page): a card needing
        authentication answers ``REQUIRES_ACTION`` with the ``client_secret`` their browser
        completes it with (browser gateways), else as ``charge``."""

    def refund(self, *, charge_gateway_id: str, amount_minor: int, currency: str,
               idempotency_key: str) -> RefundResult:
        """Refund (part of) a charge."""

    # --- reconciliation (answers that never came back) -----------------------------------
    def find_charge(self, *, customer_id: str, idempotency_key: str, gateway_id: str | None,
                    since: datetime) -> ChargeResult | None:
        """What became of the charge asked for with ``idempotency_key`` (made no earlier than
        ``since``) whose answer was lost: its result, or None when the processor holds no
        such charge (it never got the request, or nothing was charged). Asks nothing to be
        done: a lookup never charges. Raises ``GatewayUnavailable`` while it cannot tell."""

    def find_refund(self, *, charge_gateway_id: str, idempotency_key: str) -> RefundResult | None:
        """What became of the refund asked for with ``idempotency_key``: its result, or None
        when the processor made no such refund."""

    # --- card setup (the member's payment-method link) ----------------------------------
    # A gateway whose card form runs in the member's browser (Stripe.js) says so with
    # ``collects_cards_in_browser``: the card number then never reaches the panel. One that
    # does not (the offline gateway) gets the card posted to the panel and saves it with
    # ``save_card``.
    collects_cards_in_browser: bool

    def start_card_setup(self, customer_id: str, *, idempotency_key: str,
                         source: str = "payment_method_link") -> CardSetup:
        """A card setup (a Stripe SetupIntent) for the customer, to be confirmed in the
        member's browser with its ``client_secret``."""

    def finish_card_setup(self, customer_id: str, setup_id: str) -> SavedCard:
        """The card a confirmed setup saved, attached to the customer (attaching it when the
        processor did not). Raises ``CardRejected`` when the setup is not this customer's,
        did not succeed (declined, authentication not completed) or is unknown."""


@dataclass(frozen=True)
class CardSetup:
    """A card setup started at the processor: its id, and the secret the member's browser
    confirms it with (never logged, never stored)."""

    id: str
    client_secret: str
