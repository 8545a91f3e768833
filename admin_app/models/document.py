"""Accounting documents: invoices, receipts and credit notes, numbered per type.

A draft may be edited; once issued a document is immutable (its number, lines and totals).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import (
    LabelledEnum,
    TimestampMixin,
    UTCDateTime,
    currency_check,
    currency_column,
    money_column,
    non_negative,
    str_enum,
)
from .catalog import Service
from .contact import Contact
from .payment import Payment, Refund


class DocumentType(LabelledEnum):
    INVOICE = "invoice"
    RECEIPT = "receipt"
    CREDIT_NOTE = "credit_note"

    @property
    def prefix(self) -> str:
        """The default prefix (Cashier settings may set another one, with its separator)."""
        return {"invoice": "INV", "receipt": "RCT", "credit_note": "CN"}[self.value]


class DocumentStatus(LabelledEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"


class DeliveryChannel(LabelledEnum):
    EMAIL = "email"
    SMS = "sms"

    @property
    def label(self) -> str:
        return {"sms": "SMS"}.get(self.value, "Email")


class Document(TimestampMixin, db.Model):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("doc_type", "number", name="uq_document_type_number"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_iff_issued"),
        non_negative("total_minor"),
        currency_check(),
        CheckConstraint("tax_rate_bp IS NULL OR (tax_rate_bp >= 0 AND tax_rate_bp <= 10000)",
                        name="tax_rate_range"),
        CheckConstraint("status != 'void' OR voided_at IS NOT NULL", name="void_has_time"),
        Index("ix_document_contact_created", "contact_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[DocumentType] = mapped_column(
        str_enum(DocumentType, "document_type"), nullable=False, index=True
    )
    number: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"), index=True)
    status: Mapped[DocumentStatus] = mapped_column(
        str_enum(DocumentStatus, "document_status"), nullable=False,
        default=DocumentStatus.DRAFT, index=True,
    )
    currency: Mapped[str] = currency_column()
    total_minor: Mapped[int] = money_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_channel: Mapped[DeliveryChannel | None] = mapped_column(
        str_enum(DeliveryChannel, "delivery_channel")
    )
    # The prefix in force when it was issued (Cashier settings), kept with the number.
    number_prefix: Mapped[str | None] = mapped_column(String(12))
    due_date: Mapped[date | None] = mapped_column(Date)
    # A receipt names the invoice it pays; a credit note the document it corrects.
    related_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"),
                                                            index=True)
    tax_rate_bp: Mapped[int | None] = mapped_column(Integer)  # basis points: 825 = 8.25 %
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_method: Mapped[str | None] = mapped_column(String(40))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    # How its latest delivery stands (a MessageStatus value), for the list's filter.
    delivery_state: Mapped[str | None] = mapped_column(String(12), index=True)

    contact: Mapped[Contact] = relationship()
    payment: Mapped[Payment | None] = relationship()
    refund: Mapped[Refund | None] = relationship()
    related_document: Mapped[Document | None] = relationship(remote_side=[id])
    lines: Mapped[list[DocumentLine]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentLine.id"
    )

    @property
    def display_number(self) -> str:
        if self.number is None:
            return "Draft"
        prefix = self.number_prefix if self.number_prefix is not None \
            else f"{self.doc_type.prefix}-"
        return f"{prefix}{self.number:06d}"

    @property
    def is_editable(self) -> bool:
        return self.status is DocumentStatus.DRAFT

    @property
    def subtotal_minor(self) -> int:
        return sum(line.quantity * line.unit_amount_minor for line in self.lines)

    @property
    def discount_minor(self) -> int:
        return sum(line.discount_minor or 0 for line in self.lines)

    @property
    def tax_minor(self) -> int:
        """Tax on the discounted subtotal, rounded half up to the minor unit."""
        if not self.tax_rate_bp:
            return 0
        taxable = self.subtotal_minor - self.discount_minor
        return (taxable * self.tax_rate_bp + 5000) // 10000

    def computed_total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.tax_minor

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def is_void(self) -> bool:
        return self.status is DocumentStatus.VOID

    def __str__(self) -> str:
        return f"{self.doc_type.label} {self.display_number}"


class DocumentLine(db.Model):
    __tablename__ = "document_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        non_negative("unit_amount_minor"),
        non_negative("discount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_amount_minor: Mapped[int] = money_column(default=0)
    discount_minor: Mapped[int] = money_column(default=0)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))

    document: Mapped[Document] = relationship(back_populates="lines")
    service: Mapped[Service | None] = relationship()

    @property
    def total_minor(self) -> int:
        """What the line charges: quantity × unit price, less its discount."""
        return self.quantity * self.unit_amount_minor - (self.discount_minor or 0)

    def __str__(self) -> str:
        return self.description


class DocumentSequence(db.Model):
    """The last number given to each document type. Numbers come from one atomic
    ``UPDATE ... RETURNING`` inside the issuing transaction: no gaps, no duplicates."""

    __tablename__ = "document_sequence"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_non_negative"),)

    doc_type: Mapped[DocumentType] = mapped_column(
        str_enum(DocumentType, "document_type"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class MessageStatus(LabelledEnum):
    QUEUED = "queued"        # waiting for its (next) attempt, at ``next_attempt_at``
    SENDING = "sending"      # claimed by a worker, with the provider now
    SENT = "sent"            # the provider accepted it (``provider_message_id``)
    FAILED = "failed"        # a permanent failure, or retried for a day in vain
    UNCONFIRMED = "unconfirmed"  # a worker died mid-send: never sent again blindly

    @property
    def label(self) -> str:
        return {"unconfirmed": "Not confirmed"}.get(self.value, self.value.capitalize())


class OutboundMessage(TimestampMixin, db.Model):
    """A document (or invitation, or link) to deliver by Email or SMS, and how that went.

    Written in the transaction that asks for it; the worker sends it after commit. Its
    ``reference`` never repeats and goes with it to the provider (the email's Message-ID, the
    SMS's link), so a send whose outcome was lost is looked up, never repeated.
    """

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False, index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    channel: Mapped[DeliveryChannel] = mapped_column(
        str_enum(DeliveryChannel, "delivery_channel"), nullable=False
    )
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), nullable=False,
        default=MessageStatus.QUEUED, index=True,
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(40), unique=True,
                                                  default=lambda: new_message_reference())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                          server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    is_marketing: Mapped[bool] = mapped_column(db.Boolean, nullable=False, default=False,
                                               server_default=db.false())

    contact: Mapped[Contact] = relationship()
    document: Mapped[Document | None] = relationship()
    attempts_made: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id",
        cascade="all, delete-orphan")


def new_message_reference() -> str:
    import secrets

    return f"msg-{secrets.token_hex(8)}"


class DeliveryAttempt(db.Model):
    """One try at delivering a message: when, through which provider, and how it ended."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="CASCADE"), nullable=False, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)  # sent/retry/failed/...
    error: Mapped[str | None] = mapped_column(String(300))

    message: Mapped[OutboundMessage] = relationship(back_populates="attempts_made")


class OutboxItem(db.Model):
    """A message the Outbox provider kept instead of sending (nothing configured): the email
    exactly as built (RFC 822, attachments included) or the SMS text. One per message."""

    __tablename__ = "outbox_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="CASCADE"), nullable=False, unique=True)
    channel: Mapped[DeliveryChannel] = mapped_column(
        str_enum(DeliveryChannel, "delivery_channel"), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    message: Mapped[OutboundMessage] = relationship()
