"""A database's refusal of a hand edit (a constraint, a value the column cannot hold), said as
a sentence an admin understands instead of the driver's text ("Integrity error.
(psycopg.errors.CheckViolation) ...").

Constraint names follow ``extensions.NAMING_CONVENTION`` (``uq_<table>_<column>``,
``ck_<table>_<rule>``), on SQLite and PostgreSQL alike, so the sentence can name the field.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DataError, IntegrityError

# The rules behind the CHECK constraints, in words (by the rule's name).
RULES = {
    "amount_positive": "the amount must be greater than zero",
    "amount_non_zero": "the amount cannot be zero",
    "refunded_within_paid": "more cannot be refunded than was paid",
    "quantity_positive": "the quantity must be at least 1",
    "exp_month_range": "the expiry month is 1 to 12",
    "last4_length": "the last 4 digits are 4 digits",
    "currency_iso": "the currency is a three-letter code such as USD",
    "period_order": "the period must end after it starts",
    "non_negative": "an amount cannot be negative",
}


def _words(name: str) -> str:
    return name.replace("_minor", "").replace("_id", "").replace("_", " ")


def _table_and_rest(name: str) -> tuple[str, str]:
    """``promo_code_code`` → (``promo_code``, ``code``): the longest table name it starts
    with (table names have underscores too)."""
    from ..extensions import db

    tables = sorted((t for t in db.metadata.tables if name.startswith(f"{t}_")), key=len)
    table = tables[-1] if tables else name.split("_")[0]
    return table, name[len(table) + 1:]


def explain(error: Exception) -> str | None:
    """The sentence for ``error``, or None when it is not the database's refusal."""
    if isinstance(error, DataError):
        return ("A value is out of range or of the wrong kind for its field (too large a "
                "number, a malformed date...): correct it and save again. Nothing was saved.")
    if not isinstance(error, IntegrityError):
        return None
    text = str(getattr(error, "orig", error))
    unique = re.search(r"uq_(\w+)|UNIQUE constraint failed: (\w+)\.(\w+)", text)
    if unique:
        table, column = _table_and_rest(unique.group(1)) if unique.group(1) else \
            (unique.group(2), unique.group(3))
        return (f"Another {_words(table)} already has this {_words(column)}: it must be "
                "unique. Nothing was saved.")
    check = re.search(r"ck_(\w+)", text)
    if check:
        rule = next((words for key, words in RULES.items() if check.group(1).endswith(key)),
                    None)
        return f"Not saved: {rule or _words(check.group(1))}."
    missing = re.search(r'NOT NULL constraint failed: \w+\.(\w+)|column "(\w+)"', text)
    if missing:
        return f"Not saved: {_words(missing.group(1) or missing.group(2))} is required."
    if "foreign key" in text.lower():
        return ("Not saved: it refers to a record that does not exist, or other records still "
                "refer to this one.")
    return "The database refused the change. Nothing was saved."
