"""Cashier settings: a single row the Settings menu edits."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, LargeBinary, String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

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
from .document import DeliveryChannel


class AfterFinalRetry(LabelledEnum):
    """What a subscription becomes when the last retry of a failed renewal fails too."""

    UNPAID = "unpaid"
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        return {"unpaid": "Mark it unpaid (kept, owed)", "cancel": "Cancel it"}[self.value]


class CreditUse(LabelledEnum):
    """When an appointment takes a credit of its service."""

    ATTENDED = "attended"
    BOOKED = "booked"

    @property
    def label(self) -> str:
        return {"attended": "When marked attended", "booked": "When booked"}[self.value]


class CashierSettings(TimestampMixin, db.Model):
    """Settings → Cashier settings. There is exactly one row (id 1); ``get()`` creates it."""

    __tablename__ = "cashier_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        non_negative("no_show_fee_minor"),
        currency_check(),
        CheckConstraint("invoice_due_days BETWEEN 0 AND 365", name="invoice_due_days_range"),
        CheckConstraint("paper_size IN ('A4', 'Letter')", name="paper_size_known"),
        CheckConstraint("cancel_notice_hours BETWEEN 0 AND 720", name="cancel_notice_hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    auto_send_receipts: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    auto_send_channel: Mapped[DeliveryChannel] = mapped_column(
        str_enum(DeliveryChannel, "delivery_channel"), nullable=False,
        default=DeliveryChannel.EMAIL,
    )
    auto_send_invoices: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    auto_send_receipts_docs: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    auto_send_credit_notes: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    no_show_fee_minor: Mapped[int] = money_column(default=7500)
    currency: Mapped[str] = currency_column()
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    business_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    business_address: Mapped[str | None] = mapped_column(Text)
    business_tax_id: Mapped[str | None] = mapped_column(String(40))
    business_email: Mapped[str | None] = mapped_column(String(254))
    business_phone: Mapped[str | None] = mapped_column(String(32))
    # The billing cycle: days after a failed renewal when it is retried ("1,3,5,7"), what the
    # subscription becomes after the last retry, and when a cash member's invoice is due.
    retry_schedule_days: Mapped[str] = mapped_column(String(60), nullable=False,
                                                     default="1,3,5,7", server_default="1,3,5,7")
    after_final_retry: Mapped[AfterFinalRetry] = mapped_column(
        str_enum(AfterFinalRetry, "after_final_retry"), nullable=False,
        default=AfterFinalRetry.UNPAID, server_default=AfterFinalRetry.UNPAID.value,
    )
    invoice_due_days: Mapped[int] = mapped_column(Integer, nullable=False, default=14,
                                                  server_default="14")
    credit_use: Mapped[CreditUse] = mapped_column(
        str_enum(CreditUse, "credit_use"), nullable=False, default=CreditUse.ATTENDED,
        server_default=CreditUse.ATTENDED.value,
    )
    invoice_prefix: Mapped[str] = mapped_column(String(12), nullable=False, default="INV-",
                                                server_default="INV-")
    receipt_prefix: Mapped[str] = mapped_column(String(12), nullable=False, default="RCT-",
                                                server_default="RCT-")
    credit_note_prefix: Mapped[str] = mapped_column(String(12), nullable=False, default="CN-",
                                                    server_default="CN-")
    paper_size: Mapped[str] = mapped_column(String(10), nullable=False, default="A4",
                                            server_default="A4")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(40))

    # An appointment cancelled at least this many hours before it starts gives its credit
    # back; a later cancellation keeps it used (as a no-show does).
    cancel_notice_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=24,
                                                     server_default="24")

    def prefix_for(self, doc_type) -> str:
        """The number prefix of ``doc_type`` (a DocumentType) set here."""
        return {"invoice": self.invoice_prefix, "receipt": self.receipt_prefix,
                "credit_note": self.credit_note_prefix}[doc_type.value]

    # The public sign-up page: the clinic's terms the member must accept (none: no checkbox).
    terms_url: Mapped[str | None] = mapped_column(String(500))

    @classmethod
    def get(cls) -> CashierSettings:
        """The settings row, created with defaults on first use (in a savepoint, so two
        transactions creating it at once both end up reading the one row)."""
        settings = db.session.get(cls, 1)
        if settings is None:
            from flask import current_app

            try:
                with db.session.begin_nested():
                    db.session.add(cls(id=1, currency=current_app.config.get(
                        "DEFAULT_CURRENCY", "USD")))
            except IntegrityError:
                pass
            settings = db.session.get(cls, 1)
        return settings

    def __str__(self) -> str:
        return "Cashier settings"
