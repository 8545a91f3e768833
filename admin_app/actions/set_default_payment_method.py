"""Make a saved card the default one (workflow 9: update a member's payment method)."""

from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..models import AdminUser, Contact, PaymentMethod, record_audit
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .charging import default_card


def set_default_payment_method(method: PaymentMethod, *, actor: AdminUser,
                               idempotency_key: str) -> PaymentMethod:
    """Make ``method`` its contact's default card: the one subscriptions, custom bills and
    no-show fees charge. The previous default stays saved, no longer default.

    Error codes: ``not_permitted``, ``already_default``, ``not_found``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="change payment methods")
        request = claim("set_default_payment_method", idempotency_key, actor=actor,
                        target=method)
        contact = lock(Contact, method.contact_id)  # one default per contact
        method = lock(PaymentMethod, method.id)
        if method.is_default:
            raise ActionError("already_default",
                              f"{method.display_name} is already the default card of {contact}.")
        previous = default_card(contact)
        db.session.execute(update(PaymentMethod).where(PaymentMethod.contact_id == contact.id)
                           .values(is_default=False))
        method.is_default = True
        db.session.flush()
        message = f"{method.display_name} is now the default card of {contact}."
        record_audit(actor=actor, action="set_default_payment_method", target=contact,
                     summary=message,
                     before={"default_payment_method_id": previous.id if previous else None},
                     after={"default_payment_method_id": method.id})
        finish(request, message=message, result=method)
    return method
