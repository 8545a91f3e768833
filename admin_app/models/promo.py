"""Promo codes: a percent or an amount off, for a duration, on the plans they allow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import LabelledEnum, TimestampMixin, UTCDateTime, iso_currency_sql, str_enum, utcnow
from .catalog import Plan


class DiscountType(LabelledEnum):
    PERCENT = "percent"
    AMOUNT = "amount"


class DiscountDuration(LabelledEnum):
    ONCE = "once"
    REPEATING = "repeating"
    FOREVER = "forever"

    @property
    def label(self) -> str:
        return {"once": "Once", "repeating": "N months", "forever": "Forever"}[self.value]


promo_code_plan = Table(
    "promo_code_plan",
    db.metadata,
    Column("promo_code_id", ForeignKey("promo_code.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_id", ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True),
)


class PromoCode(TimestampMixin, db.Model):
    """A discount code. No plans listed means it applies to every plan."""

    __tablename__ = "promo_code"
    __table_args__ = (
        CheckConstraint(
            "(discount_type = 'percent' AND percent_off BETWEEN 1 AND 100"
            " AND amount_off_minor IS NULL)"
            " OR (discount_type = 'amount' AND amount_off_minor > 0 AND currency IS NOT NULL"
            " AND percent_off IS NULL)",
            name="discount_shape",
        ),
        CheckConstraint(f"currency IS NULL OR ({iso_currency_sql()})", name="currency_iso"),
        CheckConstraint(
            "(duration = 'repeating' AND duration_months > 0)"
            " OR (duration <> 'repeating' AND duration_months IS NULL)",
            name="duration_months_shape",
        ),
        CheckConstraint("times_redeemed >= 0", name="times_redeemed_non_negative"),
        CheckConstraint(
            "max_redemptions IS NULL"
            " OR (max_redemptions > 0 AND times_redeemed <= max_redemptions)",
            name="redemptions_within_max",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(String(200))
    discount_type: Mapped[DiscountType] = mapped_column(
        str_enum(DiscountType, "discount_type"), nullable=False, default=DiscountType.PERCENT
    )
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    duration: Mapped[DiscountDuration] = mapped_column(
        str_enum(DiscountDuration, "discount_duration"), nullable=False,
        default=DiscountDuration.ONCE,
    )
    duration_months: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)

    plans: Mapped[list[Plan]] = relationship(secondary=promo_code_plan)

    def __str__(self) -> str:
        return self.code


class PromoRedemption(db.Model):
    """A promo code applied to a subscription: who applied it, when, for how many periods."""

    __tablename__ = "promo_redemption"
    __table_args__ = (
        UniqueConstraint("promo_code_id", "subscription_id", name="uq_promo_redemption_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promo_code_id: Mapped[int] = mapped_column(ForeignKey("promo_code.id"), nullable=False,
                                               index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), nullable=False,
                                                 index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    promo_code: Mapped[PromoCode] = relationship()
    subscription = relationship("Subscription")
