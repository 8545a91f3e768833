"""A contact's subscription to a plan, billed per period by our own billing engine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import LabelledEnum, TimestampMixin, UTCDateTime, str_enum
from .catalog import Plan
from .contact import Contact
from .promo import PromoCode


class SubscriptionStatus(LabelledEnum):
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    # The retries of a failed renewal ran out: the period stays owed and grants no credits
    # until it is paid (then the subscription is active again).
    UNPAID = "unpaid"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return {"past_due": "Past due", "canceled": "Cancelled"}.get(
            self.value, self.value.capitalize()
        )


class Subscription(TimestampMixin, db.Model):
    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("current_period_end > current_period_start", name="period_order"),
        CheckConstraint("promo_periods_left IS NULL OR promo_periods_left >= 0",
                        name="promo_periods_left_non_negative"),
        # Home's renewals in the next 7 days: an index-only scan (migration 0018).
        Index("ix_subscription_renewing", "status", "current_period_end",
              "cancel_at_period_end", "plan_id", "scheduled_plan_id"),
        Index("ix_subscription_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False, index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False, index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_status"), nullable=False,
        default=SubscriptionStatus.INCOMPLETE, index=True,
    )
    current_period_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    current_period_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_code.id"), index=True)
    promo_periods_left: Mapped[int | None] = mapped_column()
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    # The start of the first period: every period starts on its day of the month (clamped to
    # shorter months, back on it when the month has it), in the clinic's time zone.
    billing_anchor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()
    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id])
    scheduled_plan: Mapped[Plan | None] = relationship(foreign_keys=[scheduled_plan_id])
    promo_code: Mapped[PromoCode | None] = relationship()
    periods = relationship("BillingPeriod", back_populates="subscription",
                           order_by="BillingPeriod.starts_at", lazy="dynamic")

    def __str__(self) -> str:
        return f"#{self.id} {self.plan}"
