"""Members of the clinic: contacts (also called clients or patients)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Index, String, Text, false, func, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import LabelledEnum, TimestampMixin, str_enum


class ContactStatus(LabelledEnum):
    LEAD = "lead"
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contact"
    __table_args__ = (
        Index("ix_contact_name", "last_name", "first_name"),
        Index("ix_contact_email", "email"),
        # Prefix search on what the front desk types (see contacts_search.find_contacts).
        Index("ix_contact_first_name_lower", func.lower(text("first_name"))),
        Index("ix_contact_last_name_lower", func.lower(text("last_name"))),
        Index("ix_contact_email_lower", func.lower(text("email"))),
        CheckConstraint("preferred_channel IS NULL OR preferred_channel IN ('email', 'sms')",
                        name="preferred_channel_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80), nullable=False)
    last_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[ContactStatus] = mapped_column(
        str_enum(ContactStatus, "contact_status"), nullable=False,
        default=ContactStatus.ACTIVE, index=True,
    )
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)
    # How the contact likes to be reached ("email" / "sms"), and per channel whether they
    # declined invitations and other marketing (receipts and invoices are still sent).
    preferred_channel: Mapped[str | None] = mapped_column(String(5))
    email_opt_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                server_default=false())
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                              server_default=false())

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        return self.full_name
