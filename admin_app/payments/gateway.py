"""What the business actions need from a payment processor, whatever the processor is.

Every call that moves money or creates something takes an ``idempotency_key`` derived from our
own row (``payment-42``, ``refund-7``): the same key gives the same result, never a second
charge. A processor that cannot be reached raises ``GatewayUnavailable``; a processor that
answers "no" returns a result whose ``status`` says so, with the processor's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class GatewayUnavailable(Exception):
    """The processor did not answer (down, timeout, 5xx). The outcome is unknown: keep the
    local record pending and reconcile later; never assume it failed or succeeded."""


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"  # the card holder must authenticate (3-D Secure)


@dataclass(frozen=True)
class CardDetails:
    """A card as typed at the desk. Only the gateway sees the full number."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str = ""


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

    def refund(self, *, charge_gateway_id: str, amount_minor: int, currency: str,
               idempotency_key: str) -> RefundResult:
        """Refund (part of) a charge."""
