"""Finding a contact by what the front desk knows: name, email or phone."""

from __future__ import annotations

import re

from sqlalchemy import and_, func, or_, select

from .extensions import db
from .models import Contact

_DIGITS = re.compile(r"\D+")


def _starts_with(column, prefix: str):
    """``lower(column)`` starts with ``prefix`` (lower-case), written as a range so that the
    expression indexes on lower(first_name/last_name/email) serve it on SQLite and PostgreSQL
    alike (a LIKE on lower() cannot use them on SQLite)."""
    upper_bound = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    lowered = func.lower(column)
    return and_(lowered >= prefix, lowered < upper_bound)


def contact_search_condition(query: str):
    """SQL condition for contacts matching every word of ``query``: a word matches the start of
    the first name, last name or email, or (with 3+ digits) part of the phone number.
    ``None`` for an empty query."""
    words = [w.lower() for w in (query or "").strip().split() if w]
    if not words:
        return None
    conditions = []
    for word in words:
        options = [_starts_with(Contact.first_name, word), _starts_with(Contact.last_name, word),
                   _starts_with(Contact.email, word)]
        digits = _DIGITS.sub("", word)
        if len(digits) >= 3:
            options.append(Contact.phone.like(f"%{digits}%"))
        conditions.append(or_(*options))
    return and_(*conditions)


def find_contacts(query: str, *, limit: int = 20) -> list[Contact]:
    """Contacts matching ``query`` (see ``contact_search_condition``), best first: by last
    name, then first name."""
    condition = contact_search_condition(query)
    if condition is None:
        return []
    statement = (select(Contact).where(condition)
                 .order_by(Contact.last_name, Contact.first_name, Contact.id).limit(limit))
    return list(db.session.scalars(statement))
