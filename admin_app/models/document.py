"""Accounting documents: invoices, receipts and credit notes, numbered per type.

A draft may be edited; once issued a document is immutable (its number, lines and totals).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
from .contact import Contact
from .payment import Payment, Refund


class DocumentType(LabelledEnum):
    INVOICE = "invoice"
    RECEIPT = "receipt"
    CREDIT_NOTE = "credit_note"

    @property
    def prefix(self) -> str:
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

    contact: Mapped[Contact] = relationship()
    payment: Mapped[Payment | None] = relationship()
    refund: Mapped[Refund | None] = relationship()
    lines: Mapped[list[DocumentLine]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentLine.id"
    )

    @property
    def display_number(self) -> str:
        if self.number is None:
            return "Draft"
        return f"{self.doc_type.prefix}-{self.number:06d}"

    @property
    def is_editable(self) -> bool:
        return self.status is DocumentStatus.DRAFT

    def __str__(self) -> str:
        return f"{self.doc_type.label} {self.display_number}"


class DocumentLine(db.Model):
    __tablename__ = "document_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        non_negative("unit_amount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_amount_minor: Mapped[int] = money_column(default=0)

    document: Mapped[Document] = relationship(back_populates="lines")

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_amount_minor

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
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutboundMessage(TimestampMixin, db.Model):
    """A document (or invitation) waiting to be delivered by Email or SMS."""

    __tablename__ = "outbound_message"

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

    contact: Mapped[Contact] = relationship()
    document: Mapped[Document | None] = relationship()
