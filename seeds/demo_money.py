"""The demo clinic's money after the fact: no-show fees, refunds, invoices, and the accounting
documents every payment and refund issued, numbered per type in the order they were issued."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from admin_app.models import (
    AppointmentStatus,
    AuditEntry,
    DeliveryChannel,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    NoShowFeeStatus,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Role,
)
from admin_app.money import format_money

from .common import CLINIC_TZ

WAIVE_REASONS = ("First missed visit: courtesy waiver", "Medical emergency (note on file)",
                 "Snowstorm: clinic advised members to stay home",
                 "Booking error by the front desk", "Family emergency")
REFUNDABLE = (PaymentPurpose.SUBSCRIPTION_PERIOD, PaymentPurpose.CUSTOM_BILL,
              PaymentPurpose.ACTIVATION_FEE)


class MoneyMixin:
    """Mixed into ``DemoHistory``; uses its payments, appointments, users and helpers."""


    def money_stories(self) -> None:
        self.refunds: list[Refund] = []
        self._no_shows()
        self._refunds()
        self._documents()

    # -- no-shows ----------------------------------------------------------------------------

    def _no_shows(self) -> None:
        """Missed visits of the last ten weeks: charged, waived, failed, or not decided yet."""
        rng, now = self.rng, self.now
        pool = [a for a in self.attended if a.contact in self.default_card
                and now - timedelta(days=70) < a.starts_at < now - timedelta(hours=2)]
        chosen = sorted(rng.sample(pool, min(16, len(pool))), key=lambda a: a.starts_at)
        outcomes = ([NoShowFeeStatus.CHARGED] * 7 + [NoShowFeeStatus.WAIVED] * 5
                    + [NoShowFeeStatus.FAILED])
        rng.shuffle(outcomes)
        outcomes += [NoShowFeeStatus.NONE] * 3  # the most recent ones are still open
        cashier = self.users[Role.CASHIER]
        for appointment, outcome in zip(chosen, outcomes, strict=False):
            decided = min(now - timedelta(minutes=10),
                          appointment.starts_at + timedelta(hours=rng.uniform(2, 26)))
            appointment.status = AppointmentStatus.NO_SHOW
            appointment.no_show_fee_status = outcome
            appointment.updated_at = decided
            if outcome in (NoShowFeeStatus.CHARGED, NoShowFeeStatus.FAILED):
                local = appointment.starts_at.astimezone(CLINIC_TZ)
                status = (PaymentStatus.SUCCEEDED if outcome is NoShowFeeStatus.CHARGED
                          else PaymentStatus.FAILED)
                appointment.no_show_fee_payment = self.payment(
                    appointment.contact, self.no_show_fee_minor, PaymentPurpose.NO_SHOW_FEE,
                    decided, status=status,
                    description=f"No-show fee: {appointment.service.name}, "
                                f"{local:%d %b %Y %H:%M}")
                self._audit.append((decided, cashier, "charge_no_show_fee", appointment,
                                    f"No-show fee {format_money(self.no_show_fee_minor, 'USD')}"
                                    f" {status.value}", None, {"fee_status": outcome.value}))
            elif outcome is NoShowFeeStatus.WAIVED:
                appointment.no_show_waive_reason = rng.choice(WAIVE_REASONS)
                self._audit.append((decided, cashier, "waive_no_show_fee", appointment,
                                    "No-show fee waived", None,
                                    {"reason": appointment.no_show_waive_reason}))

    # -- refunds -----------------------------------------------------------------------------

    def _refunds(self) -> None:
        rng, now = self.rng, self.now
        for sub, payment, cancel_at in self.canceled_now[:6]:  # prorated unused time
            begin, end = sub.current_period_start, sub.current_period_end
            unused = payment.amount_minor * ((end - cancel_at) / (end - begin))
            if int(unused) >= 100:
                self._refund(payment, int(unused), RefundReason.SUBSCRIPTION_CANCELED,
                             cancel_at + timedelta(minutes=5), note="Prorated unused time")
        candidates = [p for p in self.payments if p.status is PaymentStatus.SUCCEEDED
                      and p.purpose in REFUNDABLE and p.paid_at < now - timedelta(days=3)
                      and p.amount_minor >= 1000]
        picked = rng.sample(candidates, 10)
        reasons = [(RefundReason.DUPLICATE, "Charged twice at the front desk", 100),
                   (RefundReason.REQUESTED_BY_CUSTOMER, "Changed their mind within 14 days", 100),
                   (RefundReason.SERVICE_NOT_PROVIDED, "Class series cancelled by the studio",
                    100),
                   (RefundReason.BILLING_ERROR, "Promo code not applied at renewal", 15),
                   (RefundReason.SERVICE_NOT_PROVIDED, "Therapist off sick; two sessions lost",
                    25),
                   (RefundReason.OTHER, "Goodwill after complaint", 10),
                   (RefundReason.REQUESTED_BY_CUSTOMER, "Moved away; partial refund agreed", 50)]
        for payment, (reason, note, percent) in zip(picked, reasons, strict=False):
            when = self._refund_time(payment.paid_at)
            self._refund(payment, payment.amount_minor * percent // 100, reason, when, note=note)
        two_part = picked[7]  # refunded in two goes that add up to the whole payment
        first = two_part.amount_minor * 40 // 100
        when = self._refund_time(two_part.paid_at)
        self._refund(two_part, first, RefundReason.SERVICE_NOT_PROVIDED, when,
                     note="Injury: sessions paused")
        self._refund(two_part, two_part.amount_minor - first, RefundReason.SERVICE_NOT_PROVIDED,
                     min(now - timedelta(minutes=30), when + timedelta(days=6)),
                     note="Injury: rest of the period")
        for payment in picked[8:10]:  # the issuer refused: the payment is untouched
            self._refund(payment, payment.amount_minor, RefundReason.REQUESTED_BY_CUSTOMER,
                         self._refund_time(payment.paid_at), status=RefundStatus.FAILED,
                         note="Member asked for a refund by e-mail")

    def _refund_time(self, paid_at: datetime) -> datetime:
        later = paid_at + timedelta(days=self.rng.uniform(0.2, 12))
        return min(later, self.now - timedelta(hours=1))

    def _refund(self, payment: Payment, amount: int, reason: RefundReason, when: datetime, *,
                note: str, status: RefundStatus = RefundStatus.SUCCEEDED) -> None:
        amount = min(amount, payment.amount_minor - payment.amount_refunded_minor)
        if amount <= 0:
            return
        actor = self.users[self.rng.choice([Role.CASHIER, Role.CASHIER, Role.OWNER, Role.MANAGER])]
        refund = Refund(payment=payment, amount_minor=amount, currency=payment.currency,
                        reason=reason, note=note, status=status, issued_by=actor,
                        gateway_id=self.gateway_id("re") if payment.gateway_id else None,
                        created_at=when, updated_at=when)
        if status is RefundStatus.FAILED:
            refund.failure_reason = ("The card issuer declined the refund."
                                     " (expired_or_canceled_card)")
        self.refunds.append(refund)
        self.objects.append(refund)
        if status is RefundStatus.SUCCEEDED:
            before = payment.status.value
            payment.amount_refunded_minor += amount
            payment.status = (PaymentStatus.REFUNDED
                              if payment.amount_refunded_minor == payment.amount_minor
                              else PaymentStatus.PARTIALLY_REFUNDED)
            payment.updated_at = when
            self._audit.append((when, actor, "refund_payment", payment,
                                f"Refunded {format_money(amount, payment.currency)}",
                                {"status": before}, {"status": payment.status.value,
                                                     "amount_refunded_minor":
                                                         payment.amount_refunded_minor}))

    # -- documents ---------------------------------------------------------------------------

    def _documents(self) -> None:
        docs = self._invoices()
        for payment in self.payments:
            if payment.paid_at is None:
                continue
            docs.append(self._document(DocumentType.RECEIPT, payment.contact,
                                       payment.paid_at + timedelta(minutes=1),
                                       [(payment.description or "Payment", 1,
                                         payment.amount_minor)], payment=payment))
        for refund in self.refunds:
            if refund.status is RefundStatus.SUCCEEDED:
                payment = refund.payment
                docs.append(self._document(
                    DocumentType.CREDIT_NOTE, payment.contact,
                    refund.created_at + timedelta(minutes=1),
                    [(f"Refund: {payment.description}"[:200], 1, refund.amount_minor)],
                    payment=payment, refund=refund))
        numbers: dict[DocumentType, int] = defaultdict(int)
        for doc in sorted((d for d in docs if d.issued_at is not None),
                          key=lambda d: d.issued_at):
            numbers[doc.doc_type] += 1
            doc.number = numbers[doc.doc_type]
        self.objects.extend(docs)

    def _invoices(self) -> list[Document]:
        """Three custom invoices: paid, sent and unpaid, and a draft."""
        rng, now = self.rng, self.now
        payers = [c for c in self.contacts if c in self.default_card and c.email
                  and c.created_at < now - timedelta(days=60)]
        paid_by, unpaid_by, draft_for = rng.sample(payers, 3)
        issued = now - timedelta(days=20, hours=rng.uniform(0, 8))
        paid = self._document(DocumentType.INVOICE, paid_by, issued,
                              [("Custom foot orthotics: casting and fitting", 1, 18000),
                               ("Gait analysis report", 1, 6500)],
                              notes="Payable within 14 days.")
        paid.payment = self.payment(paid_by, paid.total_minor, PaymentPurpose.INVOICE,
                                    issued + timedelta(days=3),
                                    description="Invoice: custom orthotics and gait analysis")
        unpaid = self._document(DocumentType.INVOICE, unpaid_by,
                                now - timedelta(days=6, hours=rng.uniform(0, 8)),
                                [("Desk ergonomics workshop for staff (2 hours)", 1, 45000),
                                 ("Printed exercise handouts", 20, 150)],
                                notes="Harbor Tech Inc. wellness programme."
                                      " Payable within 30 days.")
        draft = self._document(DocumentType.INVOICE, draft_for, None,
                               [("Physiotherapy 45 min", 3, 9500),
                                ("Kinesiology tape (roll)", 2, 1500)],
                               notes="Waiting for the insurer's pre-authorisation number.")
        self._audit.append((issued, self.users[Role.CASHIER], "issue_document", paid,
                            "Invoice issued", None, None))
        return [paid, unpaid, draft]

    def _document(self, doc_type: DocumentType, contact, issued_at: datetime | None,
                  lines: list[tuple[str, int, int]], *, payment: Payment | None = None,
                  refund: Refund | None = None, notes: str | None = None) -> Document:
        created = issued_at or self.now - timedelta(days=2)
        doc = Document(
            doc_type=doc_type, contact=contact, payment=payment, refund=refund,
            status=DocumentStatus.ISSUED if issued_at else DocumentStatus.DRAFT,
            currency="USD", notes=notes, issued_at=issued_at, created_at=created,
            updated_at=created,
            lines=[DocumentLine(description=text, quantity=qty, unit_amount_minor=unit)
                   for text, qty, unit in lines],
            total_minor=sum(qty * unit for _, qty, unit in lines),
        )
        if issued_at is not None:
            if contact.email and self.rng.random() < 0.7:
                doc.sent_at, doc.sent_channel = issued_at + timedelta(minutes=2), \
                    DeliveryChannel.EMAIL
            elif contact.phone and self.rng.random() < 0.3:
                doc.sent_at, doc.sent_channel = issued_at + timedelta(minutes=2), \
                    DeliveryChannel.SMS
        return doc

    # -- audit (after the flush, when every row has its id) ----------------------------------

    def audit_entries(self) -> list[AuditEntry]:
        return [AuditEntry(created_at=when, actor=actor, action=action,
                           target_type=target.__tablename__, target_id=str(target.id),
                           summary=summary, before=before, after=after)
                for when, actor, action, target, summary, before, after
                in sorted(self._audit, key=lambda entry: entry[0])]
