"""Remove a saved card of a contact (workflow 9)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..billing.processor_calls import UNANSWERED, ask_processor
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, PaymentMethod
from ..payments import get_gateway
from .runner import STAFF, ActionResult, ActionRun


def remove_payment_method(method: PaymentMethod, *, actor: Actor,
                          idempotency_key: str) -> ActionResult[Contact]:
    """Detach ``method`` from its contact at the processor (asked with no transaction open)
    and delete it here; returns the contact.

    Removing the default card leaves the contact without a default: nothing is charged to
    another card without the admin choosing it (the message says so).

    Error codes: ``not_permitted``, ``not_found``, ``gateway_unavailable``, ``already_done``.
    """
    with ActionRun("remove_payment_method", actor=actor, key=idempotency_key, target=method,
                   roles=STAFF, doing="change payment methods") as run:
        method = lock(PaymentMethod, method.id)
        contact_id, method_id = method.contact_id, method.id
        run.before = {"payment_method_id": method.id, "card": str(method),
                      "is_default": method.is_default, "gateway_id": method.gateway_id}
        run.audit_target = db.session.get(Contact, contact_id)
        if method.gateway_id and ask_processor(get_gateway().detach_card,
                                               method.gateway_id) is UNANSWERED:
            raise ActionError("gateway_unavailable",
                              "The payment processor is not answering: the card was not "
                              "removed. Try again in a few minutes.")
        contact = lock(Contact, contact_id)
        method = db.session.get(PaymentMethod, method_id)
        if method is not None:
            db.session.delete(method)
            db.session.flush()
        message = f"Removed {run.before['card']} from {contact}."
        if run.before["is_default"]:
            message += (" It was the default card: choose another default under Payment "
                        "methods, or subscriptions and fees cannot be charged.")
        return run.done(contact, message)
