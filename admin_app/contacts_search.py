"""Finding a contact by what the front desk knows: any words of the name in any order, each
typed whole or as its start ("nor ree", "van der", "berg chloe"), the start of the email, or the
phone number (or its end) in any format ("555-0135", "(555) 0135", "5550135").

Every word is looked up through an index, never by reading the table: name words and phone
digits through ``contact_search_key`` (see ``search_keys``), the email through the
``lower(email)`` index. A prefix is written as a range (``token >= 'nor' AND token < 'nos'``),
which SQLite and PostgreSQL both serve from a b-tree.

Each word becomes the ids of the contacts it matches, read from the indexes; several words'
lists are intersected; the condition is ``contact.id IN (<those ids>)``: the ids first, then
the page. With ``ORDER BY id DESC LIMIT ? OFFSET ?`` this keeps
SQLite on the index whatever the word (ordering by id, it otherwise read the whole table
backwards and filtered it: 216 ms for "olivia.smith" at a million contacts, 0.2 ms this way);
``tests/views/test_search_plans.py`` checks the plans with EXPLAIN on both databases.
"""

from __future__ import annotations

from sqlalchemy import and_, func, intersect, select, union_all

from .extensions import db
from .models import Contact, ContactSearchKey
from .search_keys import name_words, phone_token, typed_phone_digits

MIN_PHONE_DIGITS_IN_WORD = 3


def _starts_with(expression, prefix: str):
    """``expression`` starts with ``prefix``, written as a range an index serves."""
    upper_bound = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(expression >= prefix, expression < upper_bound)


def _keys_starting_with(prefix: str):
    return select(ContactSearchKey.contact_id).where(
        _starts_with(ContactSearchKey.token, prefix))


def _emails_starting_with(prefix: str):
    return select(Contact.id).where(_starts_with(func.lower(Contact.email), prefix))


def _word_ids(name_part: str, typed: str):
    """Ids of the contacts one typed word finds: a name word starting with it, an email
    starting with it, or (3+ digits) a phone number ending with it. A word with an "@" is
    the start of an email only."""
    if "@" in typed:
        return _emails_starting_with(typed.lower())
    branches = [_keys_starting_with(name_part), _emails_starting_with(typed.lower())]
    if name_part.isdigit() and len(name_part) >= MIN_PHONE_DIGITS_IN_WORD:
        branches.append(_keys_starting_with(phone_token(name_part)))
    return union_all(*branches)


def _words(query: str) -> list[tuple[str, str]]:
    """(folded name part, word as typed) for each word; a typed word that folds into several
    ("reed,nora") counts as several, unless it is an email."""
    words = []
    for typed in query.split():
        parts = name_words(typed)
        if len(parts) == 1 or (parts and "@" in typed):
            words.append((parts[0], typed))
        else:
            words.extend((part, part) for part in parts)
    return words


def contact_search_ids(query: str):
    """The ids of the contacts matching ``query``, read from the indexes only (a subquery
    with one column, ``id``): a phone number (in any format) when that is all it is, else
    every word (see ``_word_ids``). ``None`` for an empty query."""
    query = (query or "").strip()
    digits = typed_phone_digits(query)
    if digits is not None:
        ids = _keys_starting_with(phone_token(digits))
    else:
        words = _words(query)
        if not words:
            return None
        if len(words) == 1:
            ids = _word_ids(*words[0])
        else:
            # NOTE: the words' id lists intersected first, then the contacts read: as one IN
            # per word, PostgreSQL read every contact the first word matched before testing
            # the second ("nora reed": 7,225 contacts read for 59 found, 68 ms at p95).
            lists = [_word_ids(part, typed).subquery() for part, typed in words]
            ids = intersect(*(select(*found.c) for found in lists))
    found = ids.subquery()
    return select(found.c[0].label("id")).subquery()


def contact_search_condition(query: str, *, newest: int | None = None):
    """SQL condition for contacts matching ``query`` (``contact_search_ids``); ``None`` for
    an empty query. ``newest``: only the ``newest`` matching contacts by id, picked among the
    ids alone — for a list in id order, so that its page never reads every match (8,066
    contacts read to show 50 for "van der" at a million contacts)."""
    ids = contact_search_ids(query)
    if ids is None:
        return None
    if newest is not None:
        return Contact.id.in_(select(ids.c.id).order_by(ids.c.id.desc()).limit(newest))
    return Contact.id.in_(select(ids.c.id))


def contacts_page(query: str, *, limit: int = 20, offset: int = 0):
    """The SELECT of a page of contacts matching ``query`` (see ``contact_search_condition``),
    best first: by last name, then first name; None for an empty query. The page's ids are
    picked first, from the names alone (an index-only read on PostgreSQL:
    ``ix_contact_id_names``), then only those contacts read whole."""
    condition = contact_search_condition(query)
    if condition is None:
        return None
    order = (Contact.last_name, Contact.first_name, Contact.id)
    page = select(Contact.id).where(condition).order_by(*order).offset(offset).limit(limit)
    return select(Contact).where(Contact.id.in_(page)).order_by(*order)


def find_contacts(query: str, *, limit: int = 20, offset: int = 0) -> list[Contact]:
    """The contacts of ``contacts_page``."""
    statement = contacts_page(query, limit=limit, offset=offset)
    return [] if statement is None else list(db.session.scalars(statement))
