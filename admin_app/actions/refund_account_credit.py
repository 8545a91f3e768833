"""Contact card → Account credit → Refund to card."""

from __future__ import annotations

from ..actors import Actor
from ..billing.account_credit import account_credit_balance, add_account_credit_entry
from ..billing.charging import checked_money
from ..billing.locks import lock
from ..billing.refunding import card_payments_to_refund, refund_payment_money
from ..errors import ActionError
from ..extensions import db
from ..models import AccountCreditReason, Contact, Refund, RefundReason
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def refund_account_credit(contact: Contact, *, amount_minor: int, currency: str, note: str,
                          actor: Actor, idempotency_key: str) -> ActionResult[Contact]:
    """Pay ``amount_minor`` of the contact's account credit back to their card.

    A refund goes back the way money came: it is made against the contact's card payments in
    ``currency``, newest first, never more than each has left to refund (refunds still pending
    count), one refund per payment, each in two phases around the processor (the account
    credit it takes written with the pending refund, so a crash loses nothing). A refund the
    processor refuses — now, or when reconcile learns it — gives its account credit back; one
    not answered stays pending, its account credit taken until it is settled. Each refund gets
    its credit note. A refusal part-way keeps the refunds already made and says so.

    Error codes: ``not_permitted``, ``amount_not_positive``, ``currency_invalid``,
    ``insufficient_account_credit``, ``no_card_payment_to_refund``, ``gateway_refused``,
    ``gateway_unavailable``, ``already_done``.
    """
    with ActionRun("refund_account_credit", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="refund account credit") as run:
        contact = lock(Contact, contact.id)
        currency = checked_money(amount_minor, currency)
        balance = account_credit_balance(contact.id, currency)
        amount = format_money(amount_minor, currency)
        if amount_minor > balance:
            raise ActionError("insufficient_account_credit",
                              f"{contact} has {format_money(balance, currency)} of account "
                              f"credit: {amount} cannot be refunded.")
        plan = card_payments_to_refund(contact.id, currency, amount_minor)
        refundable = sum(part for _, part in plan)
        if refundable < amount_minor:
            raise ActionError("no_card_payment_to_refund",
                              f"{contact}'s card payments in {currency} have only "
                              f"{format_money(refundable, currency)} left to refund: a refund "
                              f"of {amount} to the card is not possible. Refund less, or pay "
                              "the rest back at the desk and take it away with Adjust.")
        run.before = {"currency": currency, "balance_minor": balance}
        contact_id, done = contact.id, []
        for payment_id, part in plan:
            def take_credit(refund: Refund, part=part) -> None:
                lock(Contact, contact_id)  # never below zero, whatever was spent meanwhile
                if account_credit_balance(contact_id, currency) < part:
                    raise ActionError("insufficient_account_credit",
                                      f"{contact}'s account credit changed meanwhile: "
                                      "open the form again.")
                add_account_credit_entry(contact_id, amount_minor=-part, currency=currency,
                                         reason=AccountCreditReason.REFUNDED,
                                         note=f"Refunded to the card (payment "
                                              f"#{refund.payment_id})",
                                         actor=actor, refund_id=refund.id,
                                         payment_id=refund.payment_id)
            try:
                refunded = refund_payment_money(
                    payment_id, amount_minor=part, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                    note=(note or "").strip() or "Account credit refunded to the card",
                    actor=actor, attach=take_credit,
                    credit_note_line=f"Account credit refunded to the card (payment "
                                     f"#{payment_id})")
            except ActionError as refused:
                if done:
                    refused.message = (f"Refunded {', '.join(done)} of account credit to the "
                                       f"card; then: {refused.message}")
                raise
            done.append(f"{format_money(part, currency)} (payment #{payment_id}, "
                        f"{refunded.settlement.document})")
            db.session.commit()  # each refund made is kept, whatever the next one meets
        after = account_credit_balance(contact_id, currency)
        message = (f"Refunded {amount} of account credit to {contact}'s card: "
                   f"{'; '.join(done)}. Account credit left: {format_money(after, currency)}.")
        return run.done(lock(Contact, contact_id), message,
                        after={"currency": currency, "balance_minor": after,
                               "refunds": [p for p, _ in plan]})
