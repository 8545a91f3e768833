"""Remove a saved card (workflow 9): detached at the processor, deleted here."""

from __future__ import annotations

from ..extensions import db
from ..models import AdminUser, Contact, PaymentMethod, record_audit
from ..payments import GatewayUnavailable, get_gateway
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work


def remove_payment_method(method: PaymentMethod, *, actor: AdminUser,
                          idempotency_key: str) -> Contact:
    """Detach ``method`` from its contact at the processor and delete it here; returns the
    contact.

    Removing the default card leaves the contact without a default: nothing is charged to
    another card without the admin choosing it (the message says so).

    Error codes: ``not_permitted``, ``not_found``, ``gateway_unavailable``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="change payment methods")
        request = claim("remove_payment_method", idempotency_key, actor=actor, target=method)
        contact = lock(Contact, method.contact_id)
        method = lock(PaymentMethod, method.id)
        was = {"payment_method_id": method.id, "card": str(method),
               "is_default": method.is_default, "gateway_id": method.gateway_id}
        if method.gateway_id:
            try:
                get_gateway().detach_card(method.gateway_id)
            except GatewayUnavailable:
                raise ActionError("gateway_unavailable",
                                  "The payment processor is not answering: the card was not "
                                  "removed. Try again in a few minutes.") from None
        db.session.delete(method)
        db.session.flush()
        message = f"Removed {was['card']} from {contact}."
        if was["is_default"]:
            message += (" It was the default card: choose another default under Payment "
                        "methods, or subscriptions and fees cannot be charged.")
        record_audit(actor=actor, action="remove_payment_method", target=contact,
                     summary=message[:300], before=was, after=None)
        finish(request, message=message, result=contact)
    return contact
