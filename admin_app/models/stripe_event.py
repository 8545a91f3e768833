"""Stripe webhook deliveries already received, by event id: what makes the webhook idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class StripeEvent(db.Model):
    """One Stripe event the webhook received. Inserted first, in the event's own transaction,
    so a replayed (or concurrently redelivered) event id finds this row and changes nothing.
    ``handled`` is False for events the panel only acknowledges (unknown types, no matching
    local payment); ``note`` says what was done or why not."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(80), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    handled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str | None] = mapped_column(String(300))

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
