"""Property: random sequences of credit adjustments, charges, refunds and document issues never
break the billing invariants, whatever the actions refuse on the way:

- every payment: 0 <= refunded <= paid, and refunded is the sum of its succeeded refunds;
- every contact and service: credit balance >= 0;
- every document type: issued numbers are exactly 1..N, and the counter sits at N.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from admin_app.actions.adjust_credits import adjust_credits
from admin_app.actions.issue_document import issue_draft_document
from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actions.refund_payment import refund_payment
from admin_app.billing.charging import charge_saved_card, record_offline_payment
from admin_app.billing.refunding import refundable_remainder
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    CreditEntry,
    CreditReason,
    Document,
    DocumentSequence,
    DocumentStatus,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    RefundReason,
    RefundStatus,
)
from tests.factories import give_card, make_contact, make_document, make_service
from tests.transactions import committed

# Refusals a random sequence may meet; anything else is a bug.
EXPECTED_REFUSALS = {"insufficient_credits", "card_declined", "gateway_unavailable",
                     "payment_pending", "refund_exceeds_remaining", "payment_not_refundable",
                     "document_empty"}
GOOD_CARD, DECLINING_CARD = "4242424242424242", "4000000000000341"

who = st.integers(0, 1)  # which of the example's two contacts (the second one's card declines)
operations = st.lists(st.one_of(
    st.tuples(st.just("adjust"), who, st.integers(0, 1), st.sampled_from([-4, -2, -1, 1, 2, 3])),
    st.tuples(st.just("charge"), who, st.integers(100, 20000), st.integers(0, 3)),
    st.tuples(st.just("cash"), who, st.integers(100, 20000)),
    st.tuples(st.just("refund"), st.integers(0, 9),
              st.one_of(st.just("rest"), st.integers(1, 25000)), st.booleans()),
    st.tuples(st.just("issue"), who, st.booleans()),
    st.tuples(st.just("outage"), st.booleans()),
    st.tuples(st.just("reconcile")),
), min_size=1, max_size=12)


class Example:
    """Fresh contacts, services and cards for one example, and the operations on them."""

    def __init__(self, actor, processor) -> None:
        self.processor = processor
        self.actor = actor
        self.contacts = [make_contact(), make_contact()]
        self.services = [make_service(), make_service()]
        db.session.commit()
        give_card(self.contacts[0], number=GOOD_CARD, actor=actor)
        give_card(self.contacts[1], number=DECLINING_CARD, actor=actor)

    def run(self, operation: tuple) -> None:
        kind, *args = operation
        try:
            getattr(self, kind)(*args)
        except ActionError as refused:
            assert refused.code in EXPECTED_REFUSALS, (operation, refused.code, refused.message)
            event(f"{kind}: {refused.code}")
        else:
            event(f"{kind}: done")

    def adjust(self, contact: int, service: int, quantity: int) -> None:
        adjust_credits(self.contacts[contact], service=self.services[service], quantity=quantity,
                       reason="property test", actor=self.actor, idempotency_key=uuid4().hex)

    def charge(self, contact: int, amount: int, credits: int) -> None:
        """A card charge with its receipt, granting credits the way a period payment does."""
        person = self.contacts[contact]
        with committed():
            payment = charge_saved_card(person, amount_minor=amount, currency="USD",
                                        purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                                        description="Period").payment
            if credits:
                db.session.add(CreditEntry(contact_id=person.id, service_id=self.services[0].id,
                                           payment_id=payment.id, quantity=credits,
                                           reason=CreditReason.PERIOD_GRANT))

    def cash(self, contact: int, amount: int) -> None:
        with committed():
            record_offline_payment(
                self.contacts[contact], amount_minor=amount, currency="USD",
                purpose=PaymentPurpose.CUSTOM_BILL, description="Desk",
                method=PaymentMethodKind.CASH)

    def refund(self, index: int, amount, reverse_credits: bool) -> None:
        # Failed attempts are kept as payments too: refunding them must be refused.
        payment_ids = db.session.scalars(
            select(Payment.id).where(Payment.contact_id.in_([c.id for c in self.contacts]))
            .order_by(Payment.id)).all()
        if not payment_ids:
            return
        payment = db.session.get(Payment, payment_ids[index % len(payment_ids)])
        if amount == "rest":
            amount = refundable_remainder(payment) or 1
        refund_payment(payment, amount_minor=amount, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                       note=None, reverse_credits=reverse_credits, actor=self.actor,
                       idempotency_key=uuid4().hex)

    def issue(self, contact: int, is_empty: bool) -> None:
        draft = make_document(contact=self.contacts[contact], doc_type=DocumentType.INVOICE)
        if is_empty:
            draft.lines.clear()
        db.session.commit()
        issue_draft_document(draft, actor=self.actor, idempotency_key=uuid4().hex)

    def outage(self, is_down: bool) -> None:
        self.processor.set_down(is_down)

    def reconcile(self) -> None:
        reconcile_pending(actor=self.actor, min_age=timedelta(0))


def assert_invariants() -> None:
    db.session.expire_all()
    for payment in db.session.scalars(select(Payment)):
        refunded = sum(r.amount_minor for r in payment.refunds
                       if r.status is RefundStatus.SUCCEEDED)
        assert 0 <= payment.amount_refunded_minor <= payment.amount_minor, payment
        assert payment.amount_refunded_minor == refunded, payment
    balances = db.session.execute(
        select(CreditEntry.contact_id, CreditEntry.service_id, func.sum(CreditEntry.quantity))
        .group_by(CreditEntry.contact_id, CreditEntry.service_id)).all()
    assert all(balance >= 0 for _, _, balance in balances), balances
    for doc_type in DocumentType:
        numbers = db.session.scalars(
            select(Document.number).where(Document.doc_type == doc_type,
                                          Document.status != DocumentStatus.DRAFT)
            .order_by(Document.number)).all()
        assert numbers == list(range(1, len(numbers) + 1)), (doc_type, numbers)
        sequence = db.session.get(DocumentSequence, doc_type)
        assert (sequence.last_number if sequence else 0) == len(numbers), doc_type
    for payment in db.session.scalars(select(Payment)):  # unanswered refunds count too
        pending = sum(r.amount_minor for r in payment.refunds
                      if r.status is RefundStatus.PENDING)
        assert payment.amount_refunded_minor + pending <= payment.amount_minor, payment


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=operations)
def test_random_operations_keep_the_invariants(app, owner, steps, processor):
    example = Example(owner, processor)
    try:
        for step in steps:
            example.run(step)
            assert_invariants()
    finally:
        processor.set_down(False)
        db.session.rollback()
