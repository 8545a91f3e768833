"""Settle sign-ups whose payment's answer never came back (the page's process died, or the
processor did not answer): part of ``payments reconcile`` and the worker's schedule.

Each pending attempt is looked up at the processor by its reference (never charged again):
paid → the member is signed up exactly as the page would have done; declined, or nothing there
once the attempt is older than ``min_age`` → the attempt fails and nothing else exists.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from ..actors import SYSTEM, Actor
from ..billing.locks import lock
from ..billing.processor_calls import UNANSWERED, ask_processor
from ..billing.reconciling import MIN_AGE, Outcome, Reconciled
from ..billing.signups import apply_answer, fail_attempt, pending_attempts
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import SignupAttempt, SignupStatus
from ..payments import ChargeStatus, get_gateway
from .runner import ANYONE, ActionRun

# NOTE: a member may still be completing their bank's check in the page meanwhile.
AUTHENTICATION_WINDOW = timedelta(hours=1)


def reconcile_signup(attempt: SignupAttempt, *, actor: Actor = SYSTEM, idempotency_key: str,
                     min_age: timedelta = MIN_AGE) -> Reconciled:
    """Settle one pending sign-up attempt (see the module). Error code: ``not_pending``."""
    with ActionRun("reconcile_signup", actor=actor, key=idempotency_key, target=attempt,
                   roles=ANYONE, doing="reconcile sign-ups") as run:
        attempt = lock(SignupAttempt, attempt.id)
        if attempt.status is not SignupStatus.PENDING:
            raise ActionError("not_pending", f"{attempt} is already {attempt.status.label}.")
        label, young = str(attempt), utcnow() - attempt.created_at < min_age
        if not attempt.card_gateway_id:
            # NOTE: the charge is asked only after the card was saved and recorded: no card on
            # record means no charge was ever asked for.
            if young:
                return run.finish_without_audit(attempt, f"{label}: still being paid.")
            fail_attempt(attempt, "not_at_processor")
            return run.done(attempt, f"{label}: never charged; marked failed.",
                            after={"status": "failed"})
        attempt_id, card = attempt.id, attempt.saved_card
        answer = ask_processor(get_gateway().find_charge, customer_id=attempt.customer_id,
                               idempotency_key=attempt.reference, gateway_id=attempt.gateway_id,
                               since=attempt.created_at - timedelta(minutes=5))
        attempt = lock(SignupAttempt, attempt_id)
        waiting_for_member = (answer is not None and answer is not UNANSWERED
                              and answer.status is ChargeStatus.REQUIRES_ACTION
                              and utcnow() - attempt.created_at < AUTHENTICATION_WINDOW)
        if answer is UNANSWERED or (answer is None and young) or waiting_for_member:
            return run.finish_without_audit(Reconciled(Outcome.STILL_PENDING, f"{label}: the "
                                            "processor cannot tell yet; it stays pending."),
                                            "still pending")
        completed = apply_answer(attempt, answer, card, actor=actor)
        message = (f"{label}: paid at the processor, {completed.contact} signed up."
                   if completed else f"{label}: not paid ({attempt.failure_reason}); marked "
                                     "failed.")
        return run.done(attempt, message, after={"status": attempt.status.value})


def reconcile_signups(*, actor: Actor = SYSTEM,
                      min_age: timedelta = MIN_AGE) -> list[Reconciled]:
    """Reconcile every pending sign-up attempt, each as its own action."""
    ids = [attempt.id for attempt in pending_attempts(older_than=timedelta(0))]
    db.session.rollback()
    done = []
    for attempt_id in ids:
        try:
            result = reconcile_signup(db.session.get(SignupAttempt, attempt_id), actor=actor,
                                      idempotency_key=uuid4().hex, min_age=min_age)
        except ActionError as refused:
            done.append(Reconciled(Outcome.SETTLED, refused.message))
            continue
        record = result.record
        done.append(record if isinstance(record, Reconciled) else Reconciled(
            Outcome.STILL_PENDING if record.status is SignupStatus.PENDING else Outcome.SETTLED,
            result.message))
    return done
