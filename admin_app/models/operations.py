"""Bookkeeping of the business actions themselves: which submissions were already carried out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class ActionRequest(db.Model):
    """One carried-out submission of an action form, by its idempotency key.

    A second submission with the same key finds this row and gets the first one's result
    instead of running again (a double click, a reload, two tabs). Written in the action's own
    transaction, so a failed action leaves no row and may be retried with the same key.
    """

    __tablename__ = "action_request"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(40))
    result_type: Mapped[str | None] = mapped_column(String(60))
    result_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(String(300))
    error_code: Mapped[str | None] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
