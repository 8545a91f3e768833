"""Contact card → Account credit → Adjust: add or take away account credit by hand."""

from __future__ import annotations

from ..actors import Actor
from ..billing.account_credit import account_credit_balance, add_account_credit_entry
from ..billing.charging import checked_money
from ..billing.locks import lock
from ..errors import ActionError
from ..models import AccountCreditEntry, AccountCreditReason, Contact
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def adjust_account_credit(contact: Contact, *, amount_minor: int, currency: str, reason: str,
                          actor: Actor, idempotency_key: str) -> ActionResult[AccountCreditEntry]:
    """Add (``amount_minor`` > 0) or take away (< 0) account credit of ``currency``, with the
    reason as the ledger line's note and an audit entry with the balance before and after.
    The balance never goes below zero (the contact row is locked).

    Error codes: ``not_permitted``, ``zero_amount``, ``currency_invalid``, ``reason_required``,
    ``insufficient_account_credit``, ``already_done``.
    """
    with ActionRun("adjust_account_credit", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="adjust account credit") as run:
        contact = lock(Contact, contact.id)
        currency = checked_money(amount_minor, currency, signed=True)
        reason = (reason or "").strip()
        if not reason:
            raise ActionError("reason_required", "Say why the account credit changes.")
        before = account_credit_balance(contact.id, currency)
        if before + amount_minor < 0:
            raise ActionError("insufficient_account_credit",
                              f"{contact} has {format_money(before, currency)} of account "
                              f"credit: {format_money(-amount_minor, currency)} cannot be "
                              "taken away.")
        entry = add_account_credit_entry(contact.id, amount_minor=amount_minor,
                                         currency=currency, reason=AccountCreditReason.MANUAL,
                                         note=reason, actor=actor)
        verb = "Added" if amount_minor > 0 else "Took away"
        after = before + amount_minor
        message = (f"{verb} {format_money(abs(amount_minor), currency)} of account credit for "
                   f"{contact}: balance {format_money(before, currency)} → "
                   f"{format_money(after, currency)}.")
        return run.done(entry, message,
                        before={"currency": currency, "balance_minor": before},
                        after={"currency": currency, "balance_minor": after,
                               "account_credit_entry_id": entry.id, "reason": reason[:200]})
