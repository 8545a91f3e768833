"""The renewal engine behind ``flask billing run [--until]`` and the worker's hourly task.

It finds every subscription with something due by ``until`` (now by default) and brings each
up to date, one step at a time, in order:

- **a renewal** (active, its period ended): a scheduled cancellation ends it (cancelled at the
  period end; the period's credits expire as they would); a scheduled plan change takes effect;
  the next period opens (``period_billing.open_period``: same anchor day, promo price and
  countdown) and is charged;
- **a charge** of a period that is due (just opened), past due (a retry on the schedule of
  ``period_retries``) or unpaid (the member saved a new card): nothing to pay → paid; the
  contact's account credit in the period's currency pays first, at every attempt
  (``credit_payments``: a payment "paid from account credit" with its receipt, linked to the
  period) and, when it pays all, the period is paid and no card is asked; what is still owed
  goes to a default card, charged off-session in two phases (``charging``), with the
  processor's idempotency key ``renewal-<subscription>-<period>-<attempt>``; no card on a first
  charge → an open invoice for what is still owed, due in ``CashierSettings.invoice_due_days``
  days; paid → receipt and credits; declined (the credit part stays paid) →
  past due (``period_retries``); no answer → the payment stays pending for reconcile and the
  period is not charged again meanwhile;
- while a period is owed (in retry, unpaid, or its charge pending), the subscription does not
  renew: the retries (or the payment) decide first.

**Exactly once.** Each step runs in its own transaction on the subscription's row lock and
checks again, under the lock, that it is still due; a period is opened once per (subscription,
start) and charged once per (period, attempt) (unique constraints), so two runs at once, the
worker and cron, or a run killed halfway and started again never bill a period twice.

**The clock.** A step due in the past runs now. With ``until`` in the future (a simulation:
the demo, tests), the clock is moved forward to each step's moment while it runs
(``clock.freeze``), never backwards, and put back afterwards.

What needs an admin (a subscription that became unpaid or was cancelled by the retries, a
payment pending at the processor for longer than reconcile waits, a step that failed) is
listed in the report; ``billing run`` exits non-zero then.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from .. import clock
from ..actors import SYSTEM
from ..clinic_time import format_clinic
from ..documents import issue_document, queue_if_auto_send
from ..errors import ActionError
from ..extensions import db
from ..models import (
    BillingPeriod,
    CashierSettings,
    Contact,
    Document,
    DocumentLine,
    DocumentType,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PeriodStatus,
    Plan,
    Subscription,
    SubscriptionStatus,
    record_audit,
)
from ..money import format_money
from .charging import ChargeNotMade, charge_saved_card, default_card
from .credit_expiry import close_due_lots
from .credit_payments import (
    CreditPaid,
    credit_payments_of_period,
    pay_from_account_credit,
    period_still_owed,
)
from .locks import lock
from .period_billing import adopt_current_period, latest_period, open_period, settle_period_paid
from .period_retries import is_hard_decline, record_period_failure
from .reconciling import MIN_AGE

OWED = (PeriodStatus.DUE, PeriodStatus.PAST_DUE, PeriodStatus.UNPAID)
RENEWING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
REPORT_LINES_KEPT = 10_000  # the lines of a huge run are printed as it goes, not all kept
MAX_STEPS = 5000  # per subscription and run: a safety net, never reached by real calendars


class Did(StrEnum):
    """What one step did (the run's summary counts these)."""

    RENEWED = "renewed"
    PAID = "paid"
    RETRIED_PAID = "retried and paid"
    FAILED = "failed"
    RETRY_FAILED = "retry failed"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"
    PLAN_CHANGED = "plan changed"
    UNPAID = "unpaid"
    PENDING = "pending"
    ADOPTED = "adopted"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass
class RunReport:
    """What a run did: counts per kind, one line per step, and what needs an admin."""

    until: datetime
    counts: Counter = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    subscriptions: int = 0

    def add(self, did: Did, line: str, *, needs_admin: bool = False) -> None:
        self.counts[did] += 1
        self.lines.append(line)
        if needs_admin:
            self.attention.append(line)

    def summary(self) -> str:
        done = ", ".join(f"{count} {did.value}" for did, count in sorted(
            self.counts.items(), key=lambda item: list(Did).index(item[0])))
        return (f"Billing run until {format_clinic(self.until)} (clinic time): "
                f"{self.subscriptions} subscription(s) looked at; {done or 'nothing to do'}."
                + (f" {len(self.attention)} need(s) an admin." if self.attention else ""))


# --- what is due --------------------------------------------------------------------------
def due_subscription_ids(until: datetime) -> list[int]:
    """Subscriptions with a step due by ``until``: a renewal (period ended) or a charge of an
    owed period (its ``next_retry_at``), by id."""
    renewing = select(Subscription.id).where(Subscription.status.in_(RENEWING),
                                             Subscription.current_period_end <= until)
    charging = select(BillingPeriod.subscription_id).where(
        BillingPeriod.status.in_(OWED), BillingPeriod.next_retry_at <= until)
    # NOTE: a past due subscription from before billing periods is retried on the schedule too.
    legacy = select(Subscription.id).where(
        Subscription.status == SubscriptionStatus.PAST_DUE,
        ~select(BillingPeriod.id).where(BillingPeriod.subscription_id == Subscription.id)
        .exists())
    ids = set(db.session.scalars(renewing)) | set(db.session.scalars(charging)) | \
        set(db.session.scalars(legacy))
    db.session.rollback()  # NOTE: no transaction stays open between steps
    return sorted(ids)


@dataclass(frozen=True)
class Step:
    kind: str  # "adopt", "renew", "charge", "pending"
    at: datetime
    period_id: int | None = None


def next_step(subscription: Subscription, until: datetime) -> Step | None:
    """The subscription's next step due by ``until``, or ``None`` when it is up to date."""
    if subscription.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE):
        return None
    period = latest_period(subscription)
    if period is None:
        return Step("adopt", clock.utcnow())
    if period.status in OWED:
        if period.next_retry_at is None or period.next_retry_at > until:
            return None
        if pending_payment(period) is not None:
            return Step("pending", period.next_retry_at, period.id)
        return Step("charge", period.next_retry_at, period.id)
    if subscription.status is SubscriptionStatus.ACTIVE and \
            subscription.current_period_end <= until:
        return Step("renew", subscription.current_period_end)
    return None


def pending_payment(period: BillingPeriod) -> Payment | None:
    return db.session.scalar(select(Payment).where(
        Payment.period_id == period.id, Payment.status == PaymentStatus.PENDING).limit(1))


# --- the run ------------------------------------------------------------------------------
@contextlib.contextmanager
def _clock_at(moment: datetime):
    """Run at ``moment`` when it is ahead of the clock (a simulation), else now."""
    if moment <= clock.utcnow():
        yield
        return
    before = clock.frozen_at()
    clock.freeze(moment)
    try:
        yield
    finally:
        clock.freeze(before)


def billing_run(until: datetime | None = None, *,
                echo: Callable[[str], None] | None = None) -> RunReport:
    """Bring every subscription with something due by ``until`` up to date (see the module)."""
    until = until or clock.utcnow()
    report = RunReport(until=until)
    kept = set(db.session.identity_map.keys())
    for subscription_id in due_subscription_ids(until):
        report.subscriptions += 1
        before = len(report.lines)
        try:
            bill_subscription(subscription_id, until, report)
        except Exception as error:  # noqa: BLE001 - one subscription never stops the run
            db.session.rollback()
            report.add(Did.ERROR, f"Subscription #{subscription_id}: the step failed "
                                  f"({type(error).__name__}: {error}); that step was not "
                                  "kept. Run again, or look at it.", needs_admin=True)
        _forget_loaded_rows(kept)
        if echo is not None:
            for line in report.lines[before:]:
                echo(line)
        if len(report.lines) > REPORT_LINES_KEPT:
            del report.lines[:-REPORT_LINES_KEPT]
    db.session.rollback()
    # NOTE: after the renewals, so a rollover finds the next period they opened.
    expiry = close_due_lots(until)
    if expiry.lots_closed:
        line = (f"Credits: {expiry.lots_closed} lot(s) of {len(expiry.contacts)} contact(s) "
                f"closed, {expiry.expired} expired, {expiry.rolled_over} rolled over.")
        report.lines.append(line)
        if echo is not None:
            echo(line)
    return report


def _forget_loaded_rows(kept: set) -> None:
    """Let go of the rows one subscription's steps loaded (those loaded before the run
    stay): a run over many subscriptions keeps its session, its memory and each commit's
    work small."""
    for key, record in list(db.session.identity_map.items()):
        if key not in kept:
            db.session.expunge(record)


def bill_subscription(subscription_id: int, until: datetime, report: RunReport) -> None:
    """All the steps of one subscription due by ``until``, in order (see the module)."""
    for _ in range(MAX_STEPS):
        subscription = db.session.get(Subscription, subscription_id, populate_existing=True)
        step = next_step(subscription, until) if subscription is not None else None
        db.session.rollback()
        if step is None:
            return
        with _clock_at(step.at):
            carry_on = STEPS[step.kind](subscription_id, step, until, report)
        if not carry_on:
            return


def _adopt(subscription_id: int, step: Step, until: datetime, report: RunReport) -> bool:
    subscription = lock(Subscription, subscription_id)
    period = adopt_current_period(subscription)
    db.session.commit()
    if period is not None:
        report.add(Did.ADOPTED, f"Subscription #{subscription_id}: its current period "
                                f"(from before billing periods) is on record as "
                                f"{period.status.label.lower()}.")
    return True


def _pending(subscription_id: int, step: Step, until: datetime, report: RunReport) -> bool:
    period = db.session.get(BillingPeriod, step.period_id)
    payment = pending_payment(period) if period is not None else None
    if payment is not None:
        stale = clock.utcnow() - payment.created_at >= MIN_AGE
        report.add(Did.PENDING, f"{period}: payment #{payment.id} is waiting for the payment "
                                "processor's answer; reconcile settles it (Cashier → "
                                "Transactions) and the period is not charged again meanwhile.",
                   needs_admin=stale)
    db.session.rollback()
    return False


def _renew(subscription_id: int, step: Step, until: datetime, report: RunReport) -> bool:
    subscription = lock(Subscription, subscription_id)
    current = latest_period(subscription)
    if subscription.status is not SubscriptionStatus.ACTIVE or \
            subscription.current_period_end > until or \
            (current is not None and current.status in OWED):
        db.session.rollback()  # someone else did it meanwhile
        return True
    ends = subscription.current_period_end
    label = f"Subscription #{subscription.id} of {subscription.contact}"
    if subscription.cancel_at_period_end:
        subscription.status, subscription.canceled_at = SubscriptionStatus.CANCELED, ends
        subscription.cancel_at_period_end, subscription.scheduled_plan_id = False, None
        line = f"{label}: cancelled at its period end ({format_clinic(ends, '%d %b %Y')})."
        record_audit(actor=SYSTEM, action="billing_cancel_at_period_end", target=subscription,
                     summary=line[:300], after={"status": "canceled"})
        db.session.commit()
        report.add(Did.CANCELLED, line)
        return False
    if subscription.scheduled_plan_id is not None:
        old, new = subscription.plan, db.session.get(Plan, subscription.scheduled_plan_id)
        subscription.plan_id, subscription.scheduled_plan_id = new.id, None
        db.session.flush()
        db.session.refresh(subscription, ["plan"])
        line = f"{label}: the scheduled change from {old} to {new} took effect."
        record_audit(actor=SYSTEM, action="billing_plan_change", target=subscription,
                     summary=line[:300], before={"plan_id": old.id}, after={"plan_id": new.id})
        report.add(Did.PLAN_CHANGED, line)
    period = open_period(subscription, starts_at=ends, actor=SYSTEM)
    period.next_retry_at = period.starts_at  # NOTE: "due to be charged from"
    line = (f"{label}: renewed, {period} ({format_clinic(period.starts_at, '%d %b %Y')} – "
            f"{format_clinic(period.ends_at, '%d %b %Y')}), "
            f"{format_money(period.amount_minor, period.currency)}"
            + (f" after {format_money(period.discount_minor, period.currency)} promo discount"
               if period.discount_minor else "") + ".")
    record_audit(actor=SYSTEM, action="billing_renew", target=subscription, summary=line[:300],
                 after={"period_id": period.id, "amount_minor": period.amount_minor,
                        "promo_periods_left": subscription.promo_periods_left})
    report.add(Did.RENEWED, line)
    # NOTE: the new period is charged under the same lock: its opening is committed with the
    # pending payment (the charge's phase 1), or with the invoice.
    return _charge_locked(subscription, period, report)


def _charge(subscription_id: int, step: Step, until: datetime, report: RunReport) -> bool:
    subscription = lock(Subscription, subscription_id)
    period = lock(BillingPeriod, step.period_id)
    if period.status not in OWED or period.next_retry_at is None or \
            period.next_retry_at > until or pending_payment(period) is not None:
        db.session.rollback()
        return True
    return _charge_locked(subscription, period, report)


def _charge_locked(subscription: Subscription, period: BillingPeriod,
                   report: RunReport) -> bool:
    """Charge the owed ``period`` (both rows locked by the caller): see the module. Account
    credit pays first, at every attempt (it may have come in since the last): what it pays is
    paid at once; all of it → the period is paid and no card is asked; else only what is
    still owed goes to the card (or the open invoice), never the part already paid."""
    subscription_id = subscription.id
    first = period.attempts == 0
    contact = db.session.get(Contact, subscription.contact_id)
    if period.amount_minor == 0:
        settle_period_paid(period, None, actor=SYSTEM)
        db.session.commit()
        report.add(Did.PAID, f"{period}: nothing to pay (promo); credits granted.")
        return True
    credit = _pay_from_account_credit(subscription, period)
    said = f" {credit.sentence()}" if credit is not None else ""
    owed = period_still_owed(period)
    if owed <= 0:
        return _paid_from_account_credit(period, report, first=first)
    card = default_card(contact)
    last = db.session.get(Payment, period.payment_id) if period.payment_id else None
    if card is None or not card.gateway_id or not contact.stripe_customer_id:
        if first:
            return _invoice(subscription, period, report, owed_minor=owed, said=said)
        return _fail_without_card(subscription, period, report, said=said)
    if last is not None and is_hard_decline(last) and card.created_at <= last.created_at:
        return _fail_without_card(subscription, period, report, reason=last.failure_reason,
                                  said=said)
    attempt = period.attempts + 1
    period.attempts = attempt
    period_id, label = period.id, str(period)
    amount = format_money(owed, period.currency)

    def attach(payment: Payment) -> None:
        payment.period_id, payment.period_attempt = period_id, attempt

    reference = f"renewal-{subscription_id}-{period_id}-{attempt}"
    try:
        charged = charge_saved_card(
            contact, amount_minor=owed, currency=period.currency,
            purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, description=_describe(period),
            subscription_id=subscription_id, idempotency_key=reference, reference=reference,
            attach=attach)
    except ChargeNotMade as refused:
        db.session.commit()
        if refused.code == "gateway_unavailable":
            report.add(Did.PENDING, f"{label}: the processor did not answer; payment "
                                    f"#{refused.payment.id} is pending until reconcile settles "
                                    f"it.{said}")
            return False
        period = db.session.get(BillingPeriod, period_id)
        became = period.status
        db.session.rollback()
        if became is PeriodStatus.UNPAID or period.subscription.status is \
                SubscriptionStatus.CANCELED:
            report.add(Did.UNPAID, f"{label}: {amount} declined on attempt {attempt} "
                                   f"({refused.payment.failure_reason}); the retries are over: "
                                   f"subscription #{subscription_id} is "
                                   f"{period.subscription.status.label.lower()}.{said}",
                       needs_admin=True)
            return False
        report.add(Did.FAILED if first else Did.RETRY_FAILED,
                   f"{label}: {amount} declined ({refused.payment.failure_reason}); past due, "
                   f"next retry {format_clinic(period.next_retry_at) or 'none'}.{said}")
        return True
    except ActionError as refused:  # another card payment of the contact is pending
        # NOTE: refused before the card payment was written: the period (if just opened) stays
        # open and due, charged by a later run; the attempt number is not used up. A part paid
        # from account credit stays paid.
        db.session.get(BillingPeriod, period_id).attempts = attempt - 1
        db.session.commit()
        report.add(Did.SKIPPED, f"{label}: not charged now: {refused.message}{said}")
        return False
    db.session.commit()
    report.add(Did.PAID if first else Did.RETRIED_PAID,
               f"{label}: {amount} charged to {charged.card} (payment #{charged.payment.id}); "
               f"receipt issued, credits granted.{said}")
    return True


def _describe(period: BillingPeriod) -> str:
    return (f"{period.plan.name}: {format_clinic(period.starts_at, '%d %b %Y')} – "
            f"{format_clinic(period.ends_at, '%d %b %Y')}")


def _pay_from_account_credit(subscription: Subscription,
                             period: BillingPeriod) -> CreditPaid | None:
    """The contact's account credit in the period's currency pays what the period still owes
    (``credit_payments``): a payment linked to the period (no attempt number: it is no card
    attempt), with its receipt and an audit entry; ``None`` when they hold none."""
    period_id, owed = period.id, period_still_owed(period)

    def attach(payment: Payment) -> None:
        payment.subscription_id, payment.period_id = subscription.id, period_id

    credit = pay_from_account_credit(
        subscription.contact_id, owed_minor=owed, currency=period.currency,
        purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, description=_describe(period),
        note=f"Renewal: {period}", actor=SYSTEM, attach=attach)
    if credit is not None:
        record_audit(actor=SYSTEM, action="billing_account_credit", target=subscription,
                     summary=f"{period}: {credit.sentence()}"[:300],
                     after={"period_id": period_id, "payment_id": credit.payment.id,
                            "amount_minor": credit.amount_minor, "owed_minor": owed})
    return credit


def _paid_from_account_credit(period: BillingPeriod, report: RunReport, *,
                              first: bool) -> bool:
    """Account credit paid all the period owed: it is paid as any paid period (credits
    granted, the subscription active again), its receipt the last credit part's; no card is
    charged."""
    paid_by = credit_payments_of_period(period.id)[-1]
    settle_period_paid(period, paid_by, actor=SYSTEM)
    line = (f"{period}: {format_money(period.amount_minor, period.currency)} paid from account "
            f"credit (payment #{paid_by.id}); receipt issued, credits granted.")
    db.session.commit()
    report.add(Did.PAID if first else Did.RETRIED_PAID, line)
    return True


def _invoice(subscription: Subscription, period: BillingPeriod, report: RunReport, *,
             owed_minor: int, said: str = "") -> bool:
    """A member without a card: the period's open invoice for what it still owes (less what
    account credit paid), due in N days."""
    due_days = CashierSettings.get().invoice_due_days
    due = clock.utcnow() + timedelta(days=due_days)
    invoice = Document(doc_type=DocumentType.INVOICE, contact_id=subscription.contact_id,
                       currency=period.currency,
                       notes=f"Due by {format_clinic(due, '%d %b %Y')} (billing period "
                             f"{period.number} of subscription #{subscription.id}).")
    discount = (f", {format_money(period.discount_minor, period.currency)} promo discount"
                if period.discount_minor else "")
    from_credit = period.amount_minor - owed_minor
    credit = (f", less {format_money(from_credit, period.currency)} paid from account credit"
              if from_credit else "")
    invoice.lines.append(DocumentLine(
        description=f"{_describe(period)}{discount}{credit}"[:200],
        quantity=1, unit_amount_minor=owed_minor))
    db.session.add(invoice)
    issue_document(invoice)
    queue_if_auto_send(invoice)
    period.status, period.document_id, period.next_retry_at = (
        PeriodStatus.INVOICED, invoice.id, None)
    line = (f"{period}: no card on file; {invoice} of "
            f"{format_money(owed_minor, period.currency)} issued, due by "
            f"{format_clinic(due, '%d %b %Y')}.{said}")
    record_audit(actor=SYSTEM, action="billing_invoice", target=subscription,
                 summary=line[:300], after={"period_id": period.id, "document_id": invoice.id,
                                            "amount_minor": owed_minor,
                                            "from_account_credit_minor": from_credit})
    db.session.commit()
    report.add(Did.INVOICED, line)
    return True


def _fail_without_card(subscription: Subscription, period: BillingPeriod, report: RunReport,
                       *, reason: str = "no_payment_method", said: str = "") -> bool:
    """A retry with nothing to charge (no card, or the card that was hard-declined): counted
    as a failed attempt, without asking the processor."""
    period.attempts += 1
    effects = record_period_failure(period, None, reason=reason)
    became, status = period.status, subscription.status
    label = str(period)
    db.session.commit()
    if became is not PeriodStatus.PAST_DUE:
        report.add(Did.UNPAID, f"{label}: not charged ({reason}); " + " ".join(effects[1:])
                   + said, needs_admin=True)
        return False
    report.add(Did.RETRY_FAILED,
               f"{label}: not charged ({reason}); {status.label.lower()}.{said}")
    return True


STEPS = {"adopt": _adopt, "renew": _renew, "charge": _charge, "pending": _pending}


def bill_contact_now(contact_id: int) -> RunReport:
    """Charge the contact's periods due now (a new card was saved: ``retry_now``)."""
    now = clock.utcnow()
    report = RunReport(until=now)
    ids = list(db.session.scalars(select(Subscription.id).where(
        Subscription.contact_id == contact_id, Subscription.status.in_(
            (*RENEWING, SubscriptionStatus.UNPAID)))))
    db.session.rollback()
    for subscription_id in ids:
        report.subscriptions += 1
        bill_subscription(subscription_id, now, report)
    return report
