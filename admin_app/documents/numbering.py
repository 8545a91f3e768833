"""Sequential numbers per document type: no gaps, no duplicates, also under concurrency."""

from __future__ import annotations

from sqlalchemy import case, func, insert, select, update

from ..extensions import db
from ..models import Document, DocumentSequence, DocumentType


def next_number(doc_type: DocumentType) -> int:
    """Take the next number of ``doc_type`` inside the caller's transaction.

    One ``UPDATE ... RETURNING`` increments the counter row: concurrent transactions queue on
    that row (PostgreSQL) or on the database write lock (SQLite), and a rolled-back issue
    gives its number back, so numbers stay contiguous. The counter never falls behind numbers
    already in the table (documents imported or seeded with their numbers).
    """
    highest = (select(func.coalesce(func.max(Document.number), 0))
               .where(Document.doc_type == doc_type).scalar_subquery())
    current = case((DocumentSequence.last_number >= highest, DocumentSequence.last_number),
                   else_=highest)
    statement = (update(DocumentSequence)
                 .where(DocumentSequence.doc_type == doc_type)
                 .values(last_number=current + 1)
                 .returning(DocumentSequence.last_number))
    number = db.session.execute(statement).scalar_one_or_none()
    if number is None:  # first document of this type in a database built without the row
        start = db.session.scalar(select(func.coalesce(func.max(Document.number), 0))
                                  .where(Document.doc_type == doc_type))
        db.session.execute(insert(DocumentSequence).values(doc_type=doc_type,
                                                           last_number=start + 1))
        number = start + 1
    return number
