"""The credit ledger: signed entries per contact and service. A balance is their sum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .admin_user import AdminUser
from .base import LabelledEnum, UTCDateTime, str_enum, utcnow
from .catalog import Service
from .contact import Contact


class CreditReason(LabelledEnum):
    PERIOD_GRANT = "period_grant"
    MANUAL_ADD = "manual_add"
    MANUAL_REMOVE = "manual_remove"
    BOOKING = "booking"
    BOOKING_RETURN = "booking_return"
    EXPIRY = "expiry"
    ROLLOVER = "rollover"
    PLAN_CHANGE = "plan_change"
    REVERSAL = "reversal"


class CreditEntry(db.Model):
    """One append-only line of the ledger; ``quantity`` is positive (grant) or negative (use)."""

    __tablename__ = "credit_entry"
    __table_args__ = (
        CheckConstraint("quantity <> 0", name="quantity_non_zero"),
        Index("ix_credit_entry_contact_service", "contact_id", "service_id"),
        # The expiry run finds lots due to close through this index.
        Index("ix_credit_entry_expires_at", "expires_at"),
        # A period grants each of its services' credits once.
        Index("uq_credit_entry_period_grant", "period_id", "service_id", unique=True,
              sqlite_where=text("reason = 'period_grant'"),
              postgresql_where=text("reason = 'period_grant'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), nullable=False, index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("billing_period.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[CreditReason] = mapped_column(
        str_enum(CreditReason, "credit_reason"), nullable=False
    )
    note: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False,
                                                 index=True)

    contact: Mapped[Contact] = relationship()
    service: Mapped[Service] = relationship()
    subscription = relationship("Subscription")
    created_by: Mapped[AdminUser | None] = relationship()


class CreditLotClosing(db.Model):
    """A lot of credits (a contact's credits of one service expiring at one moment) that has
    been closed at its expiry: what expired and what rolled over. One row per lot, ever: the
    unique constraint is what makes expiry exactly-once, whoever runs it and however often."""

    __tablename__ = "credit_lot_closing"
    __table_args__ = (
        UniqueConstraint("contact_id", "service_id", "expires_at",
                         name="uq_credit_lot_closing_lot"),
        CheckConstraint("expired >= 0", name="expired_non_negative"),
        CheckConstraint("rolled_over >= 0", name="rolled_over_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expired: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rolled_over: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def credit_balances(contact_id: int) -> list[tuple[Service, int]]:
    """Balance per service of one contact: the sum of its ledger, services with entries only."""
    rows = db.session.execute(
        select(Service, func.sum(CreditEntry.quantity))
        .join(CreditEntry, CreditEntry.service_id == Service.id)
        .where(CreditEntry.contact_id == contact_id)
        .group_by(Service.id)
        .order_by(Service.name)
    ).all()
    return [(service, int(total)) for service, total in rows]
