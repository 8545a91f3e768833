"""Members of the clinic: contacts (also called clients or patients)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..search_keys import TOKEN_LENGTH, search_tokens
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
        # A search's matches put in name order from the index alone, on PostgreSQL, where a
        # lookup by id otherwise reads the row (migration 0019; SQLite's rows are its id index;
        # ``base.POSTGRESQL_ONLY_INDEXES``).
        Index("ix_contact_id_names", "id",
              postgresql_include=["last_name", "first_name"]).ddl_if(dialect="postgresql"),
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

    # What a contact's name is made of: lists' CSV exports read just these columns for the
    # contact of each row (views/csv_columns.py) and build the same name.
    label_columns = ("first_name", "last_name")

    @staticmethod
    def label_from(first_name: str | None, last_name: str | None) -> str:
        return f"{first_name} {last_name}".strip()

    @staticmethod
    def label_sql(first_name, last_name):
        """``label_from`` in SQL (the CSV export writes it in the SELECT): whitespace trimmed
        at both ends, as ``strip`` does (ASCII whitespace)."""
        return func.trim(first_name.concat(" ").concat(last_name), " \t\n\r\v\f")

    @property
    def full_name(self) -> str:
        return self.label_from(self.first_name, self.last_name)

    def __str__(self) -> str:
        return self.full_name


class ContactSearchKey(db.Model):
    """One key a contact is found by (``search_keys.search_tokens``): a folded word of the name,
    or the phone digits read backwards. The primary key (token, contact) is the index every
    search walks by prefix; kept up to date with the contact (below) and by the scale seeder.

    NOTE: byte order ("C") on PostgreSQL, so a prefix is exactly a range of the index, as on
    SQLite."""

    __tablename__ = "contact_search_key"
    __table_args__ = {"sqlite_with_rowid": False}

    token: Mapped[str] = mapped_column(
        String(TOKEN_LENGTH).with_variant(String(TOKEN_LENGTH, collation="C"), "postgresql"),
        primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


def _write_search_keys(connection, contact: Contact) -> None:
    keys = ContactSearchKey.__table__
    connection.execute(delete(keys).where(keys.c.contact_id == contact.id))
    tokens = search_tokens(contact.first_name, contact.last_name, contact.phone)
    if tokens:
        connection.execute(insert(keys), [{"token": t, "contact_id": contact.id}
                                          for t in sorted(tokens)])


@event.listens_for(Contact, "after_insert")
def _keys_of_new_contact(mapper, connection, contact: Contact) -> None:
    _write_search_keys(connection, contact)


@event.listens_for(Contact, "after_update")
def _keys_of_changed_contact(mapper, connection, contact: Contact) -> None:
    state = inspect(contact)
    if any(state.attrs[name].history.has_changes()
           for name in ("first_name", "last_name", "phone")):
        _write_search_keys(connection, contact)
