"""Finding a contact by what the front desk knows: name, email or phone."""

from __future__ import annotations

import re

from sqlalchemy import and_, or_, select

from .extensions import db
from .models import Contact

_DIGITS = re.compile(r"\D+")


def find_contacts(query: str, *, limit: int = 20) -> list[Contact]:
    """Contacts matching every word of ``query``: a word matches the start of the first name,
    last name or email, or (with 3+ digits) part of the phone number. Best matches first:
    by last name, then first name."""
    words = [w for w in (query or "").strip().split() if w]
    if not words:
        return []
    conditions = []
    for word in words:
        pattern = word.replace("%", r"\%").replace("_", r"\_") + "%"
        options = [
            Contact.first_name.ilike(pattern, escape="\\"),
            Contact.last_name.ilike(pattern, escape="\\"),
            Contact.email.ilike(pattern, escape="\\"),
        ]
        digits = _DIGITS.sub("", word)
        if len(digits) >= 3:
            options.append(Contact.phone.like(f"%{digits}%"))
        conditions.append(or_(*options))
    statement = (select(Contact).where(and_(*conditions))
                 .order_by(Contact.last_name, Contact.first_name, Contact.id).limit(limit))
    return list(db.session.scalars(statement))
