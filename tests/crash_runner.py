"""Run one money action in a process of its own and kill that process at a chosen point
between the phases of its processor call (``python -m tests.crash_runner``).

The crash is the process's own SIGKILL, as a web worker killed at its timeout dies: no
``finally``, no rollback, no answer. The processor itself is real (the offline gateway's
database, or localstripe); the only thing added in this process is where it dies:

- ``before_processor``: phase 1 is committed, the processor is never asked;
- ``after_processor``: the processor did the work, the answer dies with the process;
- ``in_phase_2``: the answer arrived and phase 2 was being written, not committed.

Environment: ``CRASH_CONFIG`` (the app's settings, JSON), ``CRASH_ACTION`` (``charge``,
``refund`` or ``renew``), ``CRASH_TARGET`` (a contact id to charge, a payment id to refund;
ignored by ``renew``, a billing run until ``CRASH_UNTIL``), ``CRASH_ACTOR`` (an admin user
id), ``CRASH_AT``.
"""

from __future__ import annotations

import json
import os
import signal

from sqlalchemy import event
from sqlalchemy.orm import Session


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _crash_around(gateway, method: str, crash_at: str) -> None:
    real = getattr(gateway, method)
    asked = []

    def call(*args, **kwargs):
        if crash_at == "before_processor":
            _die()
        answer = real(*args, **kwargs)
        if crash_at == "after_processor":
            _die()
        asked.append(answer)
        return answer

    setattr(gateway, method, call)

    @event.listens_for(Session, "before_commit")
    def die_in_phase_2(session) -> None:
        if crash_at == "in_phase_2" and asked:
            _die()


def main() -> None:
    from admin_app import create_app
    from admin_app.actions.charge_custom_bill import charge_custom_bill
    from admin_app.actions.refund_payment import refund_payment
    from admin_app.extensions import db
    from admin_app.models import AdminUser, Contact, Payment, PaymentMethodKind, RefundReason
    from admin_app.payments import get_gateway

    app = create_app(json.loads(os.environ["CRASH_CONFIG"]))
    action, target = os.environ["CRASH_ACTION"], int(os.environ["CRASH_TARGET"])
    with app.app_context():
        actor = db.session.get(AdminUser, int(os.environ["CRASH_ACTOR"]))
        _crash_around(get_gateway(), "refund" if action == "refund" else "charge",
                      os.environ["CRASH_AT"])
        if action == "renew":
            from datetime import datetime

            from admin_app.billing.renewals import billing_run

            billing_run(datetime.fromisoformat(os.environ["CRASH_UNTIL"]))
        elif action == "charge":
            charge_custom_bill(db.session.get(Contact, target), amount_minor=4500,
                               currency="USD", description="Crash test",
                               method=PaymentMethodKind.CARD, actor=actor,
                               idempotency_key=f"crash-{os.getpid()}")
        else:
            refund_payment(db.session.get(Payment, target), amount_minor=2000,
                           reason=RefundReason.REQUESTED_BY_CUSTOMER, note=None,
                           reverse_credits=False, actor=actor,
                           idempotency_key=f"crash-{os.getpid()}")


if __name__ == "__main__":
    main()
