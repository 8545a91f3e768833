"""The actions a bulk job can carry out over many rows: what each row is, and the verb it runs
with the job's parameters. One definition per bulk action, for the worker and for a small
bulk action run inline alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..actions.adjust_credits import adjust_credits
from ..actions.apply_promo import apply_promo
from ..actions.cancel_subscription import cancel_subscription
from ..actions.charge_no_show_fee import charge_no_show_fee
from ..actions.reconcile_payment import reconcile_payment
from ..actions.reconcile_refund import reconcile_refund
from ..actions.runner import ActionResult
from ..actions.send_document import send_document
from ..actions.send_plan_invitation import send_plan_invitation
from ..actions.waive_no_show_fee import waive_no_show_fee
from ..errors import ActionError
from ..extensions import db
from ..models import (
    Appointment,
    Contact,
    DeliveryChannel,
    Document,
    Payment,
    Refund,
    Service,
    Subscription,
)


@dataclass(frozen=True)
class BulkAction:
    """``run(record, params, actor, key)`` carries the verb out on one row of ``model``;
    ``done_word`` says what a done row became ("cancelled")."""

    model: type
    done_word: str
    run: Callable[..., ActionResult]

    def run_row(self, row_id: int, params: dict, *, actor, idempotency_key: str) -> ActionResult:
        record = db.session.get(self.model, row_id)
        if record is None:
            raise ActionError("not_found", f"{self.model.__name__} #{row_id} no longer exists.")
        return self.run(record, params, actor, idempotency_key)


def _cancel(subscription, params, actor, key):
    return cancel_subscription(subscription, at_period_end=params["at_period_end"],
                               credits=params.get("credits", "keep"),
                               refund_unused=bool(params.get("refund_unused")), actor=actor,
                               idempotency_key=key)


def _apply_promo(subscription, params, actor, key):
    return apply_promo(subscription, promo_code=params["promo_code"], actor=actor,
                       idempotency_key=key)


def _adjust_credits(contact, params, actor, key):
    expires = params.get("expires_at")
    return adjust_credits(contact, service=db.session.get(Service, params["service_id"]),
                          quantity=int(params["quantity"]), reason=params["reason"],
                          expires_at=datetime.fromisoformat(expires) if expires else None,
                          actor=actor, idempotency_key=key)


def _send_plan_invitation(contact, params, actor, key):
    from ..models import DeliveryChannel, Plan

    plan = db.session.get(Plan, params["plan_id"])
    if plan is None:
        raise ActionError("not_found", "That plan no longer exists.")
    expires = params.get("expires_at")
    return send_plan_invitation(plan, contact=contact, channel=DeliveryChannel(params["channel"]),
                                promo_code=params.get("promo_code"),
                                expires_at=datetime.fromisoformat(expires) if expires else None,
                                actor=actor, idempotency_key=key)


def _charge_no_show(appointment, params, actor, key):
    return charge_no_show_fee(appointment, amount_minor=int(params["amount_minor"]),
                              actor=actor, idempotency_key=key)


def _waive_no_show(appointment, params, actor, key):
    return waive_no_show_fee(appointment, reason=params["reason"], actor=actor,
                             idempotency_key=key)


def _send_document(document, params, actor, key):
    channel = params.get("channel")
    return send_document(document, channel=DeliveryChannel(channel) if channel else None,
                         actor=actor, idempotency_key=key)


BULK_ACTIONS: dict[str, BulkAction] = {
    "cancel_subscription": BulkAction(Subscription, "cancelled", _cancel),
    "apply_promo": BulkAction(Subscription, "applied", _apply_promo),
    "adjust_credits": BulkAction(Contact, "adjusted", _adjust_credits),
    "charge_no_show_fee": BulkAction(Appointment, "charged", _charge_no_show),
    "waive_no_show_fee": BulkAction(Appointment, "waived", _waive_no_show),
    "send_plan_invitation": BulkAction(Contact, "invited", _send_plan_invitation),
    "reconcile_payment": BulkAction(Payment, "checked", lambda record, params, actor, key:
                                    reconcile_payment(record, actor=actor, idempotency_key=key)),
    "reconcile_refund": BulkAction(Refund, "checked", lambda record, params, actor, key:
                                   reconcile_refund(record, actor=actor, idempotency_key=key)),
    "send_document": BulkAction(Document, "queued for sending", _send_document),
}
