"""Money that moved (or tried to): payments, their refunds, and saved payment methods."""

from __future__ import annotations

from datetime import datetime
from secrets import token_hex

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .admin_user import AdminUser
from .base import (
    LabelledEnum,
    TimestampMixin,
    UTCDateTime,
    currency_check,
    currency_column,
    money_column,
    non_negative,
    str_enum,
    utcnow,
)
from .contact import Contact
from .subscription import Subscription


class PaymentStatus(LabelledEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class PaymentPurpose(LabelledEnum):
    """What a payment paid for."""

    SUBSCRIPTION_PERIOD = "subscription_period"
    ACTIVATION_FEE = "activation_fee"
    CUSTOM_BILL = "custom_bill"
    NO_SHOW_FEE = "no_show_fee"
    INVOICE = "invoice"

    @property
    def label(self) -> str:
        return {"no_show_fee": "No-show fee"}.get(self.value, super().label)


class PaymentMethodKind(LabelledEnum):
    CARD = "card"
    CASH = "cash"
    OTHER = "other"
    # Paid from the contact's account credit (never through the processor).
    ACCOUNT_CREDIT = "account_credit"


def new_payment_reference() -> str:
    """A payment's reference at the processor (its idempotency key and ``metadata.reference``):
    random, so it never repeats, whatever ids the database hands out again."""
    return f"payment-{token_hex(10)}"


def new_refund_reference() -> str:
    return f"refund-{token_hex(10)}"


class Payment(TimestampMixin, db.Model):
    """A charge (a transaction). Refunds never exceed what was paid."""

    __tablename__ = "payment"
    __table_args__ = (
        non_negative("amount_minor"),
        non_negative("amount_refunded_minor"),
        CheckConstraint("amount_refunded_minor <= amount_minor", name="refunded_within_paid"),
        currency_check(),
        Index("ix_payment_contact_created", "contact_id", "created_at"),
        Index("ix_payment_created_at", "created_at"),
        # Home's counts (failed this week, pending card payments) read only the rows they
        # count, from the index alone.
        Index("ix_payment_status_created", "status", "created_at"),
        Index("ix_payment_status_method", "status", "method"),
        # The reports: revenue by the day money came in; the summary's changed rows.
        Index("ix_payment_paid_at", "paid_at"),
        Index("ix_payment_updated_at", "updated_at"),
        # A billing period is charged at most once per attempt (the renewal, then each retry).
        UniqueConstraint("period_id", "period_attempt", name="uq_payment_period_attempt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"), index=True)
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus, "payment_status"), nullable=False,
        # NOTE: on SQLite this index is (status, id): the Status filter's page, newest first,
        # is read from it in order without sorting the matching rows.
        default=PaymentStatus.PENDING, index=True,
    )
    amount_refunded_minor: Mapped[int] = money_column(default=0)
    purpose: Mapped[PaymentPurpose] = mapped_column(
        str_enum(PaymentPurpose, "payment_purpose"), nullable=False, index=True
    )
    method: Mapped[PaymentMethodKind] = mapped_column(
        str_enum(PaymentMethodKind, "payment_method_kind"), nullable=False,
        default=PaymentMethodKind.CARD,
    )
    description: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    gateway_id: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True, nullable=False,
                                           default=new_payment_reference)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A charge retried after it failed (e.g. on a new card): the failed payment it retries.
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    # The billing period this payment pays for (subscription periods), and which attempt.
    period_id: Mapped[int | None] = mapped_column(ForeignKey("billing_period.id"), index=True)
    period_attempt: Mapped[int | None] = mapped_column(Integer)

    contact: Mapped[Contact] = relationship()
    subscription: Mapped[Subscription | None] = relationship()
    retry_of: Mapped[Payment | None] = relationship(remote_side=[id])
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    @property
    def refundable_minor(self) -> int:
        return self.amount_minor - self.amount_refunded_minor

    def __str__(self) -> str:
        from ..money import format_money

        return f"#{self.id} {format_money(self.amount_minor, self.currency)}"


class RefundStatus(LabelledEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundReason(LabelledEnum):
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    SERVICE_NOT_PROVIDED = "service_not_provided"
    BILLING_ERROR = "billing_error"
    SUBSCRIPTION_CANCELED = "subscription_canceled"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"subscription_canceled": "Subscription cancelled"}.get(self.value, super().label)


class Refund(TimestampMixin, db.Model):
    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        currency_check(),
        Index("ix_refund_created_at", "created_at"),
        Index("ix_refund_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), nullable=False, index=True)
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    reason: Mapped[RefundReason] = mapped_column(
        str_enum(RefundReason, "refund_reason"), nullable=False
    )
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus, "refund_status"), nullable=False,
        default=RefundStatus.PENDING, index=True,
    )
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True, nullable=False,
                                           default=new_refund_reference)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    issued_by: Mapped[AdminUser | None] = relationship()

    def __str__(self) -> str:
        from ..money import format_money

        return f"Refund #{self.id} {format_money(self.amount_minor, self.currency)}"


class PaymentMethod(TimestampMixin, db.Model):
    """A saved card of a contact. At most one is the default."""

    __tablename__ = "payment_method"
    __table_args__ = (
        CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_range"),
        CheckConstraint("length(last4) = 4", name="last4_length"),
        Index("uq_payment_method_one_default", "contact_id", unique=True,
              sqlite_where=db.text("is_default"), postgresql_where=db.text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False, index=True)
    brand: Mapped[str] = mapped_column(String(20), nullable=False)
    last4: Mapped[str] = mapped_column(String(4), nullable=False)
    exp_month: Mapped[int] = mapped_column(Integer, nullable=False)
    exp_year: Mapped[int] = mapped_column(Integer, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    gateway_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    contact: Mapped[Contact] = relationship()

    @property
    def display_name(self) -> str:
        return f"{self.brand.title()} •••• {self.last4}"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.expiry})"


class AccountCreditReason(LabelledEnum):
    DOWNGRADE = "downgrade"
    CANCELLATION = "cancellation"
    MANUAL = "manual"
    APPLIED = "applied"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"manual": "Adjusted by hand", "applied": "Paid from account credit",
                "refunded": "Refunded to card",
                "refund_failed": "Refund to card failed: given back",
                "returned": "Refund of a payment from account credit"}.get(
            self.value, super().label)


class AccountCreditEntry(db.Model):
    """Money a contact holds with the clinic (e.g. unused time of a downgraded plan): a signed
    ledger in minor units; the balance is the sum and never goes below zero."""

    __tablename__ = "account_credit_entry"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_non_zero"),
        currency_check(),
        Index("ix_account_credit_entry_contact", "contact_id", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False)
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    reason: Mapped[AccountCreditReason] = mapped_column(
        str_enum(AccountCreditReason, "account_credit_reason"), nullable=False
    )
    note: Mapped[str | None] = mapped_column(String(200))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    # What it paid (a payment "paid from account credit"), or the refund to the card it went to.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    contact: Mapped[Contact] = relationship()
    actor: Mapped[AdminUser | None] = relationship()
    payment: Mapped[Payment | None] = relationship(foreign_keys=[payment_id])
    refund: Mapped[Refund | None] = relationship(foreign_keys=[refund_id])
