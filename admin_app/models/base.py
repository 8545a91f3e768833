"""Shared column types and helpers for the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Enum, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..clock import utcnow

# Indexes declared for PostgreSQL only (``Index(...).ddl_if(dialect="postgresql")``).
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_contact_id_names"})


def schema_objects_of(dialect_name: str):
    """Alembic's ``include_object`` for a database of ``dialect_name``: what the models
    declare for it (an index only PostgreSQL has is left out elsewhere)."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        return not (type_ == "index" and name in POSTGRESQL_ONLY_INDEXES
                    and dialect_name != "postgresql")

    return include


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, PostgreSQL does: this type makes both behave like PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its value in a VARCHAR with a CHECK constraint (portable, readable)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry the label an admin reads."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    def __str__(self) -> str:
        return self.label


def iso_currency_sql(column: str = "currency") -> str:
    """SQL true when ``column`` is three upper-case letters A–Z (portable: SQLite, PostgreSQL)."""
    letters = " AND ".join(f"substr({column}, {i}, 1) BETWEEN 'A' AND 'Z'" for i in (1, 2, 3))
    return f"length({column}) = 3 AND upper({column}) = {column} AND {letters}"


def currency_check(column: str = "currency") -> CheckConstraint:
    """Currency is three upper-case letters (ISO 4217)."""
    return CheckConstraint(iso_currency_sql(column), name=f"{column}_iso")


def non_negative(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative")


def money_column(**kwargs) -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, **kwargs)


def currency_column() -> Mapped[str]:
    return mapped_column(String(3), nullable=False)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


__all__ = [
    "UTCDateTime", "str_enum", "LabelledEnum", "currency_check", "non_negative",
    "money_column", "currency_column", "TimestampMixin", "utcnow",
]
