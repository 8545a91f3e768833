"""A subscription's billing periods: one row per (subscription, period), the unit the billing
engine bills exactly once.

A period row is opened when the period starts (at sign-up, or by a renewal) and records what
the period costs (the plan's price less the promo discount that applies to it), how it is being
paid, and its outcome. The unique (subscription, start) constraint is what makes billing a
period twice impossible, whoever runs the engine and however often; the charge attempts of one
period are numbered, and a payment's (period, attempt) is unique too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import (
    LabelledEnum,
    UTCDateTime,
    currency_check,
    currency_column,
    money_column,
    non_negative,
    str_enum,
    utcnow,
)
from .catalog import Plan


class PeriodStatus(LabelledEnum):
    """Where a period's money stands.

    - ``due``: opened, not paid yet (its charge not made yet, or waiting for the processor);
    - ``paid``: paid (by card, cash, account credit, or nothing to pay after the promo);
    - ``past_due``: a charge failed; retries follow the Cashier settings' schedule;
    - ``unpaid``: the retries ran out; the period stays owed and grants no credits until paid;
    - ``invoiced``: paid by invoice (a member without a card); the open invoice awaits payment;
    - ``void``: no longer owed (the subscription ended while the period was unpaid).
    """

    DUE = "due"
    PAID = "paid"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    INVOICED = "invoiced"
    VOID = "void"

    @property
    def label(self) -> str:
        return {"past_due": "Past due"}.get(self.value, self.value.capitalize())


class BillingPeriod(db.Model):
    __tablename__ = "billing_period"
    __table_args__ = (
        UniqueConstraint("subscription_id", "starts_at", name="uq_billing_period_start"),
        CheckConstraint("ends_at > starts_at", name="period_order"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        non_negative("amount_minor"),
        non_negative("discount_minor"),
        currency_check(),
        Index("ix_billing_period_status_retry", "status", "next_retry_at"),
        Index("ix_billing_period_starts_at", "starts_at"),
        Index("ix_billing_period_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), nullable=False,
                                                 index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False)
    # The period's sequence number within the subscription (1 = the first period).
    number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # What the period costs: the plan's price less the promo discount for this period.
    amount_minor: Mapped[int] = money_column()
    discount_minor: Mapped[int] = money_column(default=0)
    currency: Mapped[str] = currency_column()
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_code.id"))
    status: Mapped[PeriodStatus] = mapped_column(
        str_enum(PeriodStatus, "period_status"), nullable=False, default=PeriodStatus.DUE,
        index=True,
    )
    # Charge attempts made for this period; the next one (a retry) is due at next_retry_at.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The payment that paid it (or the latest attempt), and its receipt or open invoice.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", use_alter=True,
                                                              name="fk_billing_period_payment"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", use_alter=True,
                                                               name="fk_billing_period_document"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # When the row last changed (the reports' summary recomputes the months it touches).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                 nullable=False, index=True)

    subscription = relationship("Subscription", back_populates="periods")
    plan: Mapped[Plan] = relationship()
    payment = relationship("Payment", foreign_keys=[payment_id])
    document = relationship("Document", foreign_keys=[document_id])

    def __str__(self) -> str:
        return f"Period {self.number} of subscription #{self.subscription_id}"
