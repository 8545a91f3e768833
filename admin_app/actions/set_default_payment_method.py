"""Make a saved card the default one (workflow 9: update a member's payment method)."""

from __future__ import annotations

from sqlalchemy import update

from ..actors import Actor
from ..billing.charging import default_card
from ..billing.locks import lock
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, PaymentMethod
from .runner import STAFF, ActionResult, ActionRun


def set_default_payment_method(method: PaymentMethod, *, actor: Actor,
                               idempotency_key: str) -> ActionResult[PaymentMethod]:
    """Make ``method`` its contact's default card: the one subscriptions, custom bills and
    no-show fees charge. The previous default stays saved, no longer default.

    Error codes: ``not_permitted``, ``already_default``, ``not_found``, ``already_done``.
    """
    with ActionRun("set_default_payment_method", actor=actor, key=idempotency_key, target=method,
                   roles=STAFF, doing="change payment methods") as run:
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
        return run.done(method, message,
                        before={"default_payment_method_id": previous.id if previous else None},
                        after={"default_payment_method_id": method.id})
