"""What the clinic sells: bookable services and subscription plans that grant them."""

from __future__ import annotations

import secrets

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import (
    LabelledEnum,
    TimestampMixin,
    currency_check,
    currency_column,
    money_column,
    non_negative,
    str_enum,
)


class BillingInterval(LabelledEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class UnusedCredits(LabelledEnum):
    """What happens to a period's unused credits when it ends."""

    EXPIRE = "expire"
    ROLL_OVER = "roll_over"

    @property
    def label(self) -> str:
        return {"expire": "Expire (use it or lose it)",
                "roll_over": "Roll over one period (up to one period's credits)"}[self.value]


def new_public_token() -> str:
    """An unguessable token for a plan's public subscription link."""
    return secrets.token_urlsafe(18)


class Service(TimestampMixin, db.Model):
    """A bookable service (e.g. "Physiotherapy 45 min") with its list price."""

    __tablename__ = "service"
    __table_args__ = (non_negative("price_minor"), currency_check(),
                      CheckConstraint("duration_minutes > 0", name="duration_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=45)
    price_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    # Its name as lists' CSV exports write it (see ``Contact.label_columns``).
    label_columns = ("name",)

    @staticmethod
    def label_from(name: str | None) -> str | None:
        return name

    @staticmethod
    def label_sql(name):
        return name

    def __str__(self) -> str:
        return self.name


class Plan(TimestampMixin, db.Model):
    """A subscription plan: a price per interval, a one-time activation fee, and the service
    credits it grants each period (its ``services``)."""

    __tablename__ = "plan"
    __table_args__ = (
        non_negative("price_minor"),
        non_negative("activation_fee_minor"),
        currency_check(),
        CheckConstraint("interval_count > 0", name="interval_count_positive"),
        CheckConstraint("max_members IS NULL OR max_members > 0", name="max_members_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    price_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    interval: Mapped[BillingInterval] = mapped_column(
        str_enum(BillingInterval, "billing_interval"), nullable=False,
        default=BillingInterval.MONTH,
    )
    interval_count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    activation_fee_minor: Mapped[int] = money_column(default=0)
    max_members: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)
    public_token: Mapped[str] = mapped_column(
        String(64), nullable=False, unique=True, default=new_public_token
    )
    is_public_link_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    unused_credits: Mapped[UnusedCredits] = mapped_column(
        str_enum(UnusedCredits, "unused_credits"), nullable=False, default=UnusedCredits.EXPIRE,
        server_default=UnusedCredits.EXPIRE.value,
    )

    services: Mapped[list[PlanService]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanService.id"
    )

    def __str__(self) -> str:
        return self.name


class PlanService(db.Model):
    """One line of a plan: a service and how many credits of it the plan grants per period."""

    __tablename__ = "plan_service"
    __table_args__ = (
        UniqueConstraint("plan_id", "service_id", name="uq_plan_service_plan_service"),
        CheckConstraint("credits_per_period > 0", name="credits_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), nullable=False, index=True)
    credits_per_period: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    plan: Mapped[Plan] = relationship(back_populates="services")
    service: Mapped[Service] = relationship()

    def __str__(self) -> str:
        return f"{self.credits_per_period} × {self.service}"
