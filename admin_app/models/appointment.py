"""Booked visits of contacts to services; a missed one may carry a no-show fee."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clinic_time import format_clinic
from ..extensions import db
from .base import LabelledEnum, TimestampMixin, UTCDateTime, str_enum
from .catalog import Service
from .contact import Contact
from .payment import Payment


class AppointmentStatus(LabelledEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return {"no_show": "No-show"}.get(self.value, super().label)


class NoShowFeeStatus(LabelledEnum):
    NONE = "none"
    CHARGED = "charged"
    WAIVED = "waived"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"none": "—"}.get(self.value, super().label)


class AppointmentCredit(LabelledEnum):
    """Where an appointment stands with the service credits it takes.

    - ``none``: no credit taken (yet);
    - ``used``: one credit of its service was taken from the ledger;
    - ``returned``: taken, then given back (cancelled in time);
    - ``missing``: it needed a credit and the member had none left: flagged, to be charged;
    - ``charged``: a missing credit paid for instead (a charge for the service).
    """

    NONE = "none"
    USED = "used"
    RETURNED = "returned"
    MISSING = "missing"
    CHARGED = "charged"

    @property
    def label(self) -> str:
        return {"none": "—", "missing": "No credit left"}.get(self.value, super().label)


class Appointment(TimestampMixin, db.Model):
    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_contact_starts", "contact_id", "starts_at"),
                      Index("ix_appointment_updated_at", "updated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus, "appointment_status"), nullable=False,
        default=AppointmentStatus.BOOKED, index=True,
    )
    no_show_fee_status: Mapped[NoShowFeeStatus] = mapped_column(
        str_enum(NoShowFeeStatus, "no_show_fee_status"), nullable=False,
        default=NoShowFeeStatus.NONE,
    )
    no_show_fee_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment.id"), unique=True
    )
    no_show_waive_reason: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(String(500))
    credit_status: Mapped[AppointmentCredit] = mapped_column(
        str_enum(AppointmentCredit, "appointment_credit"), nullable=False,
        default=AppointmentCredit.NONE, server_default=AppointmentCredit.NONE.value, index=True,
    )
    # The charge for an appointment that had no credit left (at most one per appointment).
    credit_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)

    contact: Mapped[Contact] = relationship()
    service: Mapped[Service] = relationship()
    no_show_fee_payment: Mapped[Payment | None] = relationship(
        foreign_keys=[no_show_fee_payment_id])
    credit_payment: Mapped[Payment | None] = relationship(foreign_keys=[credit_payment_id])

    def __str__(self) -> str:
        return f"{self.service} on {format_clinic(self.starts_at, '%Y-%m-%d %H:%M %Z')}"
