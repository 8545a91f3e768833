"""The Stripe gateway: the panel's payment processor calls made through the official ``stripe``
SDK (the only module of the panel that imports ``stripe``).

Our database stays the billing engine; Stripe only holds customers, saved cards
(PaymentMethods), charges (off-session PaymentIntents) and refunds. ``api_base`` points the SDK
at a Stripe-compatible server instead of api.stripe.com (localstripe in the tests).

Every request carries an idempotency key made of its kind and the key the caller derived from
our own row (``charge:payment-42``, ``refund:refund-7``...), so a retried call is answered by
Stripe with the first call's result instead of charging or refunding twice.

How Stripe's answers map onto the gateway interface:

- ``save_card``: a PaymentMethod of type card is created from the number typed at the desk
  (or a test token such as ``pm_card_visa`` given as the number is used as is), then attached
  to the customer. A ``card_error`` (402: declined, incorrect number...) or an
  ``invalid_request_error`` about the card raises ``CardRejected(code, message)``.
- ``charge``: a PaymentIntent with ``confirm=True, off_session=True`` for the saved card, the
  description and our idempotency key (``reference``) in its metadata. Status
  ``succeeded`` gives ``SUCCEEDED`` with the PaymentIntent's id as ``gateway_id``;
  ``requires_action`` (or a card error coded ``authentication_required``, as real Stripe answers
  off-session) gives ``REQUIRES_ACTION``; a card error (402), any other status, or an invalid
  request (a card that is no longer attached...) gives ``DECLINED`` with Stripe's code and
  message.
- ``refund``: a Refund of ``amount_minor`` of the PaymentIntent. Status ``succeeded`` or
  ``pending`` gives ``RefundResult(succeeded=True, gateway_id=<refund id>)``; Stripe refusing
  it (``invalid_request_error``) or a ``failed``/``canceled`` refund gives
  ``succeeded=False`` with Stripe's message.
- ``find_charge`` / ``find_refund`` (reconciliation, after a lost answer): a PaymentIntent
  whose id we know is retrieved; otherwise the customer's charges since the attempt are
  listed and the PaymentIntent whose ``metadata.reference`` is our key is the one. Refunds
  are found among the PaymentIntent's refunds by the same ``metadata.reference``. A lookup
  never creates anything, so it is safe on any server (localstripe ignores idempotency
  keys: replaying the request would charge twice there).
- ``detach_card``: detaches the PaymentMethod; one that Stripe no longer has attached
  (invalid request) counts as detached.
- ``verify_webhook``: checks a webhook delivery's ``Stripe-Signature`` header against the
  endpoint's signing secret (``stripe.Webhook.construct_event``, with its 5-minute tolerance
  for the timestamp) and returns the event as plain JSON data; a missing, malformed or forged
  signature (or no secret configured) raises ``InvalidWebhook``.
- Stripe not answering, a 5xx (``APIConnectionError``, ``APIError``) or rate limiting
  (``RateLimitError``) raises ``GatewayUnavailable``: the outcome is unknown. So does a
  PaymentIntent still ``processing``. Other errors (a wrong secret key...) propagate: they are
  configuration faults, not processor answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import TypeVar

import stripe

from .gateway import (
    CardDetails,
    CardRejected,
    CardSetup,
    ChargeResult,
    ChargeStatus,
    GatewayUnavailable,
    RefundResult,
    SavedCard,
)

T = TypeVar("T")

# The metadata ``source`` of the SetupIntents the member's payment-method page starts.
PAYMENT_METHOD_LINK = "payment_method_link"

_UNAVAILABLE = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


def _call(make: Callable[[], T]) -> T:
    """Run one SDK request, turning "Stripe did not answer" into ``GatewayUnavailable``."""
    try:
        return make()
    except _UNAVAILABLE as error:
        raise GatewayUnavailable(f"Stripe did not answer: {error.user_message or error}") \
            from error


def _refusal_code(error: stripe.StripeError) -> str:
    """A request Stripe refused: invalid, or its idempotency key was used before for another
    request (Stripe carried nothing out)."""
    return ("idempotency_key_in_use" if isinstance(error, stripe.IdempotencyError)
            else "invalid_request")


def _code(error: stripe.StripeError, default: str) -> str:
    return error.code or default


def _message(error: stripe.StripeError) -> str:
    return error.user_message or str(error) or "No reason given."


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str | None, api_base: str | None = None, *,
                 timeout: float = 20) -> None:
        if not secret_key:
            raise RuntimeError("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY")
        # NOTE: the SDK waits 80 s by default, longer than a web worker lives: a request cut
        # at our own timeout is an unanswered call (the attempt stays pending, reconciled).
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base} if api_base else {},
            max_network_retries=0, http_client=stripe.new_default_http_client(timeout=timeout))

    @staticmethod
    def _options(kind: str, idempotency_key: str) -> dict:
        return {"idempotency_key": f"{kind}:{idempotency_key}"}

    # --- the gateway interface ----------------------------------------------------------
    def create_customer(self, *, email: str | None, name: str, idempotency_key: str) -> str:
        params = {"name": name, **({"email": email} if email else {})}
        customer = _call(lambda: self.client.v1.customers.create(
            params, options=self._options("customer", idempotency_key)))
        return customer.id

    def save_card(self, customer_id: str, card: CardDetails, *,
                  idempotency_key: str) -> SavedCard:
        token = card.number.strip()
        try:
            if token.startswith("pm_"):
                payment_method_id = token
            else:
                number = "".join(ch for ch in token if ch.isdigit())
                details = {"number": number, "exp_month": card.exp_month,
                           "exp_year": card.exp_year}
                if card.cvc:
                    details["cvc"] = card.cvc
                created = _call(lambda: self.client.v1.payment_methods.create(
                    {"type": "card", "card": details},
                    options=self._options("card", idempotency_key)))
                payment_method_id = created.id
            attached = _call(lambda: self.client.v1.payment_methods.attach(
                payment_method_id, {"customer": customer_id},
                options=self._options("card-attach", idempotency_key)))
        except stripe.CardError as error:
            raise CardRejected(_code(error, "card_declined"), _message(error)) from None
        except stripe.InvalidRequestError as error:
            raise CardRejected(_code(error, "invalid_card"), _message(error)) from None
        saved = attached.card
        return SavedCard(attached.id, saved.brand, saved.last4, int(saved.exp_month),
                         int(saved.exp_year))

    def detach_card(self, card_gateway_id: str) -> None:
        # Not attached (any more) or unknown: the card is off the customer either way.
        with suppress(stripe.InvalidRequestError):
            _call(lambda: self.client.v1.payment_methods.detach(
                card_gateway_id, options=self._options("card-detach", card_gateway_id)))

    def charge(self, *, customer_id: str, card_gateway_id: str, amount_minor: int,
               currency: str, description: str, idempotency_key: str) -> ChargeResult:
        return self._confirm_intent(customer_id, card_gateway_id, amount_minor, currency,
                                    description, idempotency_key, off_session=True)

    def charge_on_session(self, *, customer_id: str, card_gateway_id: str, amount_minor: int,
                          currency: str, description: str,
                          idempotency_key: str) -> ChargeResult:
        """A PaymentIntent confirmed with the card holder present (no ``off_session``): one
        needing authentication comes back ``requires_action`` with its client secret, for
        Stripe.js's ``confirmCardPayment`` in the member's page."""
        return self._confirm_intent(customer_id, card_gateway_id, amount_minor, currency,
                                    description, idempotency_key, off_session=False)

    def _confirm_intent(self, customer_id: str, card_gateway_id: str, amount_minor: int,
                        currency: str, description: str, idempotency_key: str, *,
                        off_session: bool) -> ChargeResult:
        params = {"amount": amount_minor, "currency": currency.lower(),
                  "customer": customer_id, "payment_method": card_gateway_id,
                  "payment_method_types": ["card"], "confirm": True,
                  "metadata": {"description": description[:500],
                               "reference": idempotency_key}}
        if off_session:
            params["off_session"] = True
        try:
            intent = _call(lambda: self.client.v1.payment_intents.create(
                params, options=self._options("charge", idempotency_key)))
        except stripe.CardError as error:
            intent_id = _intent_id(error)
            if "authentication_required" in (error.code, _decline_code(error)):
                return ChargeResult(ChargeStatus.REQUIRES_ACTION, intent_id,
                                    "authentication_required", _message(error))
            return ChargeResult(ChargeStatus.DECLINED, intent_id,
                                _code(error, "card_declined"), _message(error))
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as error:
            return ChargeResult(ChargeStatus.DECLINED, _intent_id(error),
                                _code(error, _refusal_code(error)), _message(error))
        result = _intent_result(intent)
        if result.status is ChargeStatus.REQUIRES_ACTION and not off_session:
            return ChargeResult(result.status, result.gateway_id, result.failure_code,
                                result.failure_message, client_secret=intent.client_secret)
        return result

    def refund(self, *, charge_gateway_id: str, amount_minor: int, currency: str,
               idempotency_key: str) -> RefundResult:
        try:
            refund = _call(lambda: self.client.v1.refunds.create(
                {"payment_intent": charge_gateway_id, "amount": amount_minor,
                 "metadata": {"reference": idempotency_key}},
                options=self._options("refund", idempotency_key)))
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as error:
            return RefundResult(False, None, _message(error))
        return _refund_result(refund)

    # --- reconciliation (answers that never came back) -----------------------------------
    def find_charge(self, *, customer_id: str, idempotency_key: str, gateway_id: str | None,
                    since: datetime) -> ChargeResult | None:
        if gateway_id:
            return _intent_result(_call(
                lambda: self.client.v1.payment_intents.retrieve(gateway_id)))
        # The customer's charges since the attempt (a minute's margin for clocks), then the
        # PaymentIntent of each, until the one whose metadata names our reference.
        params = {"customer": customer_id, "limit": 100,
                  "created": {"gt": int(since.timestamp()) - 60}}
        charges = _call(lambda: list(
            self.client.v1.charges.list(params).auto_paging_iter()))
        for intent_id in dict.fromkeys(c.payment_intent for c in charges if c.payment_intent):
            intent = _call(lambda i=intent_id: self.client.v1.payment_intents.retrieve(i))
            if _reference(intent) == idempotency_key:
                return _intent_result(intent)
        return None

    def find_refund(self, *, charge_gateway_id: str, idempotency_key: str) -> RefundResult | None:
        try:
            refunds = _call(lambda: list(self.client.v1.refunds.list(
                {"payment_intent": charge_gateway_id, "limit": 100}).auto_paging_iter()))
        except stripe.InvalidRequestError:
            return None  # no such charge: no refund of it either
        for refund in refunds:
            if _reference(refund) == idempotency_key:
                return _refund_result(refund)
        return None

    # --- card setup (the member's payment-method link) ----------------------------------
    # The member's page confirms the SetupIntent with Stripe.js (the card number goes from
    # the browser to Stripe, never through the panel); the panel then checks the outcome.
    collects_cards_in_browser = True

    def start_card_setup(self, customer_id: str, *, idempotency_key: str,
                         source: str = PAYMENT_METHOD_LINK) -> CardSetup:
        intent = _call(lambda: self.client.v1.setup_intents.create(
            {"customer": customer_id, "usage": "off_session", "payment_method_types": ["card"],
             "metadata": {"source": source}},
            options=self._options("card-setup", idempotency_key)))
        return CardSetup(intent.id, intent.client_secret)

    def finish_card_setup(self, customer_id: str, setup_id: str) -> SavedCard:
        try:
            intent = _call(lambda: self.client.v1.setup_intents.retrieve(setup_id))
        except stripe.InvalidRequestError:
            raise CardRejected("setup_unknown", "This card setup is unknown to Stripe.") \
                from None
        if intent.customer != customer_id:
            raise CardRejected("setup_not_for_customer",
                               "This card setup belongs to another customer.")
        if intent.status == "requires_action":
            raise CardRejected("authentication_required",
                               "The card needs the card holder's authentication, which was "
                               "not completed.")
        if intent.status != "succeeded" or not intent.payment_method:
            error = getattr(intent, "last_setup_error", None)
            if error is not None:
                raise CardRejected(getattr(error, "code", None) or "card_declined",
                                   getattr(error, "message", None) or "Your card was declined.")
            if intent.status == "canceled":
                raise CardRejected("card_declined", "Your card was declined.")
            raise CardRejected("setup_not_finished", "No card was confirmed: the card form was "
                                                     "not completed.")
        payment_method_id = intent.payment_method if isinstance(intent.payment_method, str) \
            else intent.payment_method.id
        method = _call(lambda: self.client.v1.payment_methods.retrieve(payment_method_id))
        # NOTE: Stripe attaches the card to the SetupIntent's customer when it succeeds;
        # localstripe does not, so attach it here when it is not attached yet.
        if not method.customer:
            try:
                method = _call(lambda: self.client.v1.payment_methods.attach(
                    payment_method_id, {"customer": customer_id},
                    options=self._options("card-setup-attach", setup_id)))
            except stripe.CardError as error:
                raise CardRejected(_code(error, "card_declined"), _message(error)) from None
        elif method.customer != customer_id:
            raise CardRejected("setup_not_for_customer",
                               "This card belongs to another customer.")
        card = method.card
        return SavedCard(method.id, card.brand, card.last4, int(card.exp_month),
                         int(card.exp_year))


class InvalidWebhook(Exception):
    """A webhook delivery whose signature is missing, malformed or wrong."""


def verify_webhook(payload: bytes, sig_header: str | None, secret: str | None) -> dict:
    """The event of a webhook delivery, as JSON data, once its signature is verified."""
    if not secret:
        raise InvalidWebhook("No webhook signing secret is configured (STRIPE_WEBHOOK_SECRET).")
    if not sig_header:
        raise InvalidWebhook("The Stripe-Signature header is missing.")
    try:
        stripe.Webhook.construct_event(payload, sig_header, secret)
        event = json.loads(payload)
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(f"Bad signature: {error.user_message or error}") from None
    except ValueError:
        raise InvalidWebhook("The payload is not JSON.") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise InvalidWebhook("The payload is not a Stripe event.")
    return event


def _intent_result(intent) -> ChargeResult:
    """A PaymentIntent's state as a charge result (still ``processing``: unknown yet)."""
    if intent.status == "succeeded":
        return ChargeResult(ChargeStatus.SUCCEEDED, intent.id)
    if intent.status == "requires_action":
        return ChargeResult(ChargeStatus.REQUIRES_ACTION, intent.id, "authentication_required",
                            "The card holder must authenticate this payment.")
    if intent.status == "processing":
        raise GatewayUnavailable(f"Stripe is still processing {intent.id}.")
    error = getattr(intent, "last_payment_error", None)
    return ChargeResult(ChargeStatus.DECLINED, intent.id,
                        getattr(error, "code", None) or intent.status,
                        getattr(error, "message", None) or f"The payment is {intent.status}.")


def _reference(obj) -> str | None:
    """The reference (our idempotency key) the panel put in a Stripe object's metadata."""
    metadata = getattr(obj, "metadata", None)
    return metadata["reference"] if metadata and "reference" in metadata else None


def _refund_result(refund) -> RefundResult:
    if refund.status in ("succeeded", "pending"):
        return RefundResult(True, refund.id)
    return RefundResult(False, refund.id, getattr(refund, "failure_reason", None)
                        or f"The refund is {refund.status}.")


def _intent_id(error: stripe.StripeError) -> str | None:
    intent = getattr(error.error, "payment_intent", None)
    return getattr(intent, "id", None)


def _decline_code(error: stripe.StripeError) -> str | None:
    return getattr(error.error, "decline_code", None)
