"""Subscribe to a plan: the desk's Contact card → Subscriptions → Subscribe to a plan, and the
member's sign-up page behind a plan's Subscription Link. One verb, two ways in: an admin
subscribes a ``Contact`` and says how it is paid; a member signs up as a ``NewMember`` with a
card. Both end in the same records (``billing.subscribing``): an active subscription, its
first period paid with its credits and receipt, the promo code redeemed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..actors import SYSTEM, Actor
from ..billing.cards import check_card_dates
from ..billing.charging import ChargeNotMade, charge_saved_card, check_chargeable
from ..billing.locks import lock
from ..billing.processor_calls import UNANSWERED, ask_processor
from ..billing.promo_rules import find_promo
from ..billing.settling import record_paid
from ..billing.signup_payments import (
    PENDING_SENTENCE,
    PROCESSOR_DOWN,
    BrowserStep,
    clinic_name,
    declined_error,
    pay_with_typed_card,
    remember,
    start_card_setup_for,
)
from ..billing.signups import (
    SIGNED_UP,
    NewMember,
    apply_answer,
    complete_paid,
    contact_by_email,
    fail_attempt,
    recent_declines,
)
from ..billing.subscribing import (
    SubscriptionQuote,
    activate_paid,
    begin_subscription,
    check_not_subscribed,
    check_plan_open,
    check_promo_for,
    discard_unpaid,
    quote_subscription,
)
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    BillingPeriod,
    Contact,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Plan,
    PlanInvitation,
    PromoCode,
    SignupAttempt,
    SignupStatus,
    Subscription,
)
from ..payments import CardDetails, CardRejected, get_gateway
from .runner import ANYONE, STAFF, ActionResult, ActionRun

PAID_WITH = ("card", "cash", "other", "invoice")
MAX_START_AHEAD = timedelta(days=366)
# Declines from one address within this window before the page refuses to try again.
DECLINE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class SignupCard:
    """How the member pays on the sign-up page: the card as typed (a gateway without a
    browser card form)."""

    card: CardDetails


@dataclass(frozen=True)
class BrowserCard:
    """How the member pays with a browser card form (Stripe.js), in steps: without ids the
    attempt is opened with a card setup for Stripe.js to confirm; with ``setup_id`` (the
    confirmed setup) the card is charged with the member present; with ``payment_intent``
    (a charge the member has just authenticated) the charge is looked up and settled."""

    attempt_id: int | None = None
    setup_id: str | None = None
    payment_intent: str | None = None


def _promo(promo_code: PromoCode | str | None) -> PromoCode | None:
    if promo_code is None or (isinstance(promo_code, str) and not promo_code.strip()):
        return None
    return find_promo(promo_code) if isinstance(promo_code, str) else promo_code


def check_start(starts_at: datetime | None, *, now: datetime) -> datetime:
    """Now, or a later start (at most a year ahead); a start in the past is refused
    (``start_in_past``): a subscription is not backdated."""
    if starts_at is None or starts_at <= now:
        if starts_at is not None and starts_at < now - timedelta(days=1):
            raise ActionError("start_in_past", "The start date has passed: choose today or a "
                                               "later day.")
        return now
    if starts_at > now + MAX_START_AHEAD:
        raise ActionError("start_too_far", "Choose a start within a year from today.")
    return starts_at


def review_subscription(plan: Plan, *, promo_code: PromoCode | str | None,
                        starts_at: datetime | None, contact: Contact | None = None,
                        at: datetime | None = None) -> SubscriptionQuote:
    """The review before anything is charged: the same checks the subscription will pass
    (plan sold and not full, not subscribed already, the promo's rules) and the quote.
    Changes nothing. Error codes as ``subscribe_to_plan``."""
    now = at or utcnow()
    check_plan_open(plan, at=now)
    if contact is not None:
        check_not_subscribed(contact, plan)
    promo = _promo(promo_code)
    if promo is not None:
        check_promo_for(promo, plan, at=now)
    return quote_subscription(plan, promo=promo, starts_at=check_start(starts_at, now=now))


def subscribe_to_plan(member: Contact | NewMember, *, plan: Plan,
                      promo_code: PromoCode | str | None = None,
                      starts_at: datetime | None = None, paid_with: str | SignupCard = "card",
                      actor: Actor, idempotency_key: str,
                      invitation: PlanInvitation | None = None,
                      client_address: str | None = None,
                      expected_total_minor: int | None = None) -> ActionResult:
    """Start ``member`` on ``plan``: charge the activation fee and the first period (one
    payment, two receipt lines; ``billing.subscribing``), open the first period, grant its
    credits, issue the receipt — in two phases around the processor.

    At the desk (``member`` a ``Contact``, an admin ``actor``): ``paid_with`` ``card`` (the
    default saved card), ``cash`` / ``other`` (taken at the desk) or ``invoice`` (an open
    invoice for the amount, due as Cashier settings say; the period is *invoiced*); the start
    ``starts_at`` (now when ``None``). The subscription is written *incomplete* before the
    card is charged: a decline keeps the failed payment and removes the subscription; no
    answer keeps both pending until reconciled.

    On the sign-up page (``member`` a ``NewMember``, ``actor`` SYSTEM, ``paid_with`` a
    ``SignupCard``): see ``billing.signups``; nothing but the attempt exists until paid.
    ``expected_total_minor`` is the total the member was shown: a different one is refused
    (``quote_changed``).

    Error codes: ``not_permitted``, ``plan_inactive``, ``plan_full``, ``already_subscribed``,
    ``promo_not_found`` and the Apply Promo refusals (``promo_inactive``, ``promo_expired``,
    ``promo_exhausted``, ``promo_not_for_plan``, ``promo_currency_mismatch``),
    ``start_in_past``, ``start_too_far``, ``paid_with_invalid``, ``no_payment_method``,
    ``payment_pending``, ``card_declined``, ``authentication_required``,
    ``gateway_unavailable``, ``quote_changed``, ``invitation_used``, ``invitation_expired``,
    ``too_many_declines``, ``link_disabled``, ``card_missing``, ``card_expired``,
    ``card_rejected``, ``attempt_unknown``, ``attempt_closed``, ``already_done``.
    """
    if isinstance(member, NewMember):
        return _sign_up(member, plan=plan, promo_code=promo_code, paid_with=paid_with,
                        idempotency_key=idempotency_key, invitation=invitation,
                        client_address=client_address,
                        expected_total_minor=expected_total_minor)
    return _subscribe_at_desk(member, plan=plan, promo_code=promo_code, starts_at=starts_at,
                              paid_with=paid_with, actor=actor,
                              idempotency_key=idempotency_key)


def _link_first_payment(period: BillingPeriod):
    def attach(payment: Payment) -> None:
        payment.period_id, payment.period_attempt = period.id, 1
        period.payment_id, period.attempts = payment.id, 1
        db.session.flush()
    return attach


def _subscribe_at_desk(contact: Contact, *, plan: Plan, promo_code, starts_at, paid_with,
                       actor: Actor, idempotency_key: str) -> ActionResult[Subscription]:
    with ActionRun("subscribe_to_plan", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="subscribe contacts to plans") as run:
        if paid_with not in PAID_WITH:
            raise ActionError("paid_with_invalid", "Choose how the first payment is made.")
        contact = lock(Contact, contact.id)
        plan = lock(Plan, plan.id)  # NOTE: serialises the plan's last places
        quote = review_subscription(plan, promo_code=promo_code, starts_at=starts_at,
                                    contact=contact)
        if paid_with == "card" and quote.due_today_minor:
            check_chargeable(contact)
        subscription, period = begin_subscription(contact, quote, actor=actor)
        subscription_id = subscription.id
        due = quote.due_today_minor
        description = f"{plan}: " + " + ".join(line for line, _ in quote.lines())
        payment = None
        paid_how = "nothing due today"
        if due and paid_with == "card":
            try:
                charged = charge_saved_card(
                    contact, amount_minor=due, currency=quote.currency,
                    purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, description=description,
                    subscription_id=subscription_id, idempotency_key=idempotency_key,
                    attach=_link_first_payment(period))
            except ChargeNotMade as not_made:
                if not_made.code != "gateway_unavailable":
                    discard_unpaid(subscription_id)  # NOTE: the failed payment stays on record
                    not_made.message += f" No subscription to {plan} was started."
                else:
                    not_made.message += (f" The subscription to {plan} waits, incomplete, for "
                                         "that answer.")
                raise
            payment, paid_how = charged.payment, f"charged to {charged.card}"
            period = db.session.get(BillingPeriod, period.id)
        elif due and paid_with in ("cash", "other"):
            method = PaymentMethodKind(paid_with)
            payment = Payment(contact_id=contact.id, subscription_id=subscription_id,
                              amount_minor=due, currency=quote.currency,
                              purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, method=method,
                              description=description[:200], status=PaymentStatus.SUCCEEDED,
                              paid_at=utcnow(), idempotency_key=idempotency_key)
            db.session.add(payment)
            db.session.flush()
            _link_first_payment(period)(payment)
            record_paid(payment)
            paid_how = f"paid by {method.label.lower()}"
        subscription = db.session.get(Subscription, subscription_id)
        if due and paid_with == "invoice":
            from ..billing.first_invoice import invoice_first_period

            invoice = invoice_first_period(subscription, period, quote, actor=actor)
            paid_how = f"invoiced ({invoice}, open)"
        else:
            activate_paid(subscription, period, payment, actor=actor)
        run.audit_target = subscription
        message = (f"{contact} subscribed to {plan} from "
                   f"{quote.starts_at:%d %b %Y}: {quote.describe()}, {paid_how}.")
        return run.done(subscription, message, after={
            "contact_id": contact.id, "plan_id": plan.id, "subscription_id": subscription_id,
            "status": subscription.status.value, "period_id": period.id,
            "payment_id": payment.id if payment is not None else None,
            "due_today_minor": due, "currency": quote.currency, "paid_with": paid_with,
            "promo_code_id": quote.promo.id if quote.promo else None})


def _check_invitation(invitation: PlanInvitation | None, plan: Plan, *, now: datetime) -> None:
    if invitation is None:
        return
    if invitation.plan_id != plan.id or invitation.signed_up_at is not None:
        raise ActionError("invitation_used", "This personal invitation was already used.")
    if invitation.expires_at is not None and invitation.expires_at <= now:
        raise ActionError("invitation_expired", "This personal invitation has expired.")


def _sign_up(member: NewMember, *, plan: Plan, promo_code, paid_with, idempotency_key: str,
             invitation: PlanInvitation | None, client_address: str | None,
             expected_total_minor: int | None) -> ActionResult[SignupAttempt]:
    with ActionRun("sign_up_via_link", actor=SYSTEM, key=idempotency_key, target=plan,
                   roles=ANYONE, doing="sign up") as run:
        now = utcnow()
        if isinstance(paid_with, BrowserCard) and paid_with.attempt_id is not None:
            return _continue_in_browser(run, plan, paid_with)
        if not isinstance(paid_with, SignupCard | BrowserCard) or (
                isinstance(paid_with, BrowserCard)
                and not get_gateway().collects_cards_in_browser):
            raise ActionError("card_missing", "Enter your card.")
        if recent_declines(client_address, since=now - DECLINE_WINDOW) >= \
                _max_declines():
            raise ActionError("too_many_declines",
                              "Too many declined attempts: please wait an hour, or contact "
                              "the clinic.")
        if isinstance(paid_with, SignupCard):
            check_card_dates(paid_with.card)
            problem = paid_with.card.number_problem()
            if problem:
                raise ActionError("card_rejected", problem)
        plan = lock(Plan, plan.id)
        if not plan.is_public_link_enabled:
            raise ActionError("link_disabled", "This link is no longer active: please ask "
                                               "the clinic for a new one.")
        if invitation is not None:
            invitation = lock(PlanInvitation, invitation.id)
        _check_invitation(invitation, plan, now=now)
        existing = contact_by_email(member.email)
        if existing is not None:
            check_not_subscribed_member(existing, plan)
        quote = review_subscription(plan, promo_code=promo_code, starts_at=None, at=now)
        if expected_total_minor is not None and expected_total_minor != quote.due_today_minor:
            raise ActionError("quote_changed",
                              f"The total is now {quote.money(quote.due_today_minor)}: check "
                              "it and confirm again.")
        attempt = SignupAttempt(
            plan_id=plan.id, invitation_id=invitation.id if invitation else None,
            first_name=member.first_name, last_name=member.last_name, email=member.email,
            phone=member.phone, promo_code_id=quote.promo.id if quote.promo else None,
            amount_minor=quote.due_today_minor, currency=quote.currency,
            client_address=client_address,
            customer_id=existing.stripe_customer_id if existing is not None else None)
        db.session.add(attempt)
        if invitation is not None and invitation.started_at is None:
            invitation.started_at = now
        db.session.flush()
        run.audit_target = attempt
        attempt_id = attempt.id
        if not quote.due_today_minor:
            completed = complete_paid(attempt, None, None, actor=SYSTEM)
            return run.finish_without_audit(attempt, _thanks(completed.contact, plan))
        if isinstance(paid_with, BrowserCard):
            return run.finish_without_audit(start_card_setup_for(attempt), "Card setup started.")
        answer, card = pay_with_typed_card(attempt, paid_with.card)
        attempt = lock(SignupAttempt, attempt_id)
        if answer is UNANSWERED:
            raise ActionError("gateway_unavailable", PENDING_SENTENCE.format(clinic=clinic_name()))
        completed = apply_answer(attempt, answer, card, actor=SYSTEM)
        if completed is None:
            raise declined_error(attempt)
        return run.finish_without_audit(attempt, _thanks(completed.contact, plan))


def _continue_in_browser(run: ActionRun, plan: Plan, card: BrowserCard) -> ActionResult:
    """The next step of a browser payment (see ``BrowserCard``)."""
    attempt = lock(SignupAttempt, card.attempt_id)
    if attempt.plan_id != plan.id:
        raise ActionError("attempt_unknown", "This payment does not belong to this page: "
                                             "reload it and try again.")
    run.audit_target = attempt
    if attempt.status is not SignupStatus.PENDING:
        raise ActionError("attempt_closed", "This payment attempt is over: reload the page "
                                            "and try again.")
    gateway, attempt_id, customer_id = get_gateway(), attempt.id, attempt.customer_id
    reference, amount, currency = attempt.reference, attempt.amount_minor, attempt.currency
    saved = attempt.saved_card
    if card.setup_id:
        try:
            saved = ask_processor(gateway.finish_card_setup, customer_id, card.setup_id)
        except CardRejected as rejected:
            attempt = lock(SignupAttempt, attempt_id)
            fail_attempt(attempt, rejected.code)
            raise declined_error(attempt) from None
        if saved is UNANSWERED:
            raise ActionError("gateway_unavailable", PROCESSOR_DOWN)
        remember(attempt_id, card_gateway_id=saved.gateway_id, card_brand=saved.brand[:20],
                  card_last4=saved.last4, card_exp_month=saved.exp_month,
                  card_exp_year=saved.exp_year)
        answer = ask_processor(gateway.charge_on_session, customer_id=customer_id,
                               card_gateway_id=saved.gateway_id, amount_minor=amount,
                               currency=currency, description=f"Sign-up: {plan}",
                               idempotency_key=reference)
    elif card.payment_intent and card.payment_intent == attempt.gateway_id:
        answer = ask_processor(gateway.find_charge, customer_id=customer_id,
                               idempotency_key=reference, gateway_id=card.payment_intent,
                               since=attempt.created_at)
    else:
        raise ActionError("attempt_unknown", "This payment does not belong to this page: "
                                             "reload it and try again.")
    attempt = lock(SignupAttempt, attempt_id)
    if answer is UNANSWERED:
        raise ActionError("gateway_unavailable", PENDING_SENTENCE.format(clinic=clinic_name()))
    if answer is not None and answer.client_secret and card.setup_id:
        attempt.gateway_id = answer.gateway_id  # NOTE: the only charge this attempt may settle
        return run.finish_without_audit(BrowserStep(attempt_id, answer.client_secret,
                                                    "authenticate"), "Authentication asked.")
    completed = apply_answer(attempt, answer, saved, actor=SYSTEM)
    if completed is None:
        raise declined_error(attempt)
    return run.finish_without_audit(attempt, _thanks(completed.contact, plan))


def check_not_subscribed_member(contact: Contact, plan: Plan) -> None:
    try:
        check_not_subscribed(contact, plan)
    except ActionError:
        raise ActionError("already_subscribed",
                          f"You are already subscribed to {plan}: nothing was charged. "
                          f"Contact {clinic_name()} if something looks wrong.") from None


def _max_declines() -> int:
    from flask import current_app

    return int(current_app.config.get("SIGNUP_MAX_DECLINES", 5))


def _thanks(contact: Contact, plan: Plan) -> str:
    return f"{contact} {SIGNED_UP}: {plan}."


__all__ = ["subscribe_to_plan", "review_subscription", "NewMember", "SignupCard",
           "BrowserCard", "BrowserStep", "SignupStatus"]
