"""The member's payment on the sign-up page, at the processor: each call asked with no
transaction open (``processor_calls``), keyed by the attempt's reference; what the processor
made for the attempt (the customer, the card) recorded at once in its own short transaction,
so reconcile can look the charge up if the page's process dies. Used by
``actions.subscribe_to_plan`` for a new member; the answers are applied by ``signups``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ActionError
from ..models import CashierSettings, SignupAttempt
from ..payments import CardDetails, CardRejected, GatewayRefused, get_gateway
from .locks import lock
from .processor_calls import UNANSWERED, ask_processor
from .signups import fail_attempt

PROCESSOR_DOWN = ("The payment processor is not answering: nothing was charged. Please try "
                  "again in a few minutes.")
PENDING_SENTENCE = ("The payment processor did not answer, so we do not know yet whether your "
                    "payment went through. Please do not pay again: {clinic} will confirm your "
                    "membership by email.")


@dataclass(frozen=True)
class BrowserStep:
    """What the member's browser does next: confirm the card setup (``setup``) or
    authenticate the charge (``authenticate``) with ``client_secret``."""

    attempt_id: int
    client_secret: str
    kind: str


def clinic_name() -> str:
    """How the member's page names the clinic (Cashier settings' business name)."""
    return CashierSettings.get().business_name or "the clinic"


def declined_error(attempt: SignupAttempt) -> ActionError:
    """The refusal the member reads for a failed attempt (kept, with its reason)."""
    reason = attempt.failure_reason or "declined"
    if reason == "authentication_required":
        message = ("Your bank asks you to confirm this card, which cannot be done here: "
                   "nothing was charged. Please use another card.")
    elif reason in ("card_rejected", "customer_refused"):
        message = "The card was not accepted: nothing was charged. Please use another card."
    else:
        why = "" if "declined" in reason.lower() else f" ({reason.rstrip('.')})"
        message = (f"Your card was declined{why}: nothing was charged. Please check the "
                   "details or use another card.")
    return ActionError("card_declined" if reason != "authentication_required"
                       else "authentication_required", message, keep_changes=True,
                       after={"signup_attempt_id": attempt.id, "status": "failed"})


def start_card_setup_for(attempt: SignupAttempt) -> BrowserStep:
    """The member's customer (created on first need) and a card setup for Stripe.js."""
    gateway, attempt_id, reference = get_gateway(), attempt.id, attempt.reference
    customer_id = attempt.customer_id
    name, email = attempt.full_name, attempt.email
    if not customer_id:
        customer_id = ask_processor(gateway.create_customer, email=email, name=name,
                                    idempotency_key=f"{reference}-customer")
        if customer_id is UNANSWERED:
            raise ActionError("gateway_unavailable", PROCESSOR_DOWN)
        remember(attempt_id, customer_id=customer_id)
    setup = ask_processor(gateway.start_card_setup, customer_id,
                          idempotency_key=f"{reference}-setup", source="signup")
    if setup is UNANSWERED:
        raise ActionError("gateway_unavailable", PROCESSOR_DOWN)
    return BrowserStep(attempt_id, setup.client_secret, "setup")


def pay_with_typed_card(attempt: SignupAttempt, card: CardDetails):
    """Ask the processor (no transaction open): the customer, the card, the charge. Returns
    (answer or UNANSWERED, the saved card); a refused card or customer fails the attempt."""
    gateway = get_gateway()
    reference, attempt_id = attempt.reference, attempt.id
    customer_id = attempt.customer_id
    amount, currency = attempt.amount_minor, attempt.currency
    name = f"{attempt.first_name} {attempt.last_name}".strip()
    email, description = attempt.email, f"Sign-up: {attempt.plan}"
    try:
        if not customer_id:
            customer_id = ask_processor(gateway.create_customer, email=email, name=name,
                                        idempotency_key=f"{reference}-customer")
            if customer_id is UNANSWERED:
                return UNANSWERED, None
            remember(attempt_id, customer_id=customer_id)
        saved = ask_processor(gateway.save_card, customer_id, card,
                              idempotency_key=f"{reference}-card")
        if saved is UNANSWERED:
            return UNANSWERED, None
        remember(attempt_id, card_gateway_id=saved.gateway_id, card_brand=saved.brand[:20],
                  card_last4=saved.last4, card_exp_month=saved.exp_month,
                  card_exp_year=saved.exp_year)
    except (CardRejected, GatewayRefused) as refused:
        attempt = lock(SignupAttempt, attempt_id)
        fail_attempt(attempt, getattr(refused, "code", None) == "card_declined"
                     and (refused.message or "declined") or "card_rejected")
        raise declined_error(attempt) from None
    answer = ask_processor(gateway.charge, customer_id=customer_id,
                           card_gateway_id=saved.gateway_id, amount_minor=amount,
                           currency=currency, description=description,
                           idempotency_key=reference)
    return answer, saved


def remember(attempt_id: int, **values) -> None:
    """Record what the processor made for the attempt at once (its own short transaction), so
    reconcile can look the charge up if this process dies."""
    attempt = lock(SignupAttempt, attempt_id)
    for name, value in values.items():
        setattr(attempt, name, value)
