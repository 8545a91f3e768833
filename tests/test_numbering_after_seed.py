"""Numbering continues after documents that were written with their numbers (seeds, imports)."""

from admin_app.documents import issue_document
from admin_app.extensions import db
from admin_app.models import DocumentType
from tests.factories import make_document


def test_numbering_continues_after_existing_numbers(app):
    make_document(issued_number=1)
    make_document(issued_number=2)
    db.session.commit()
    draft = make_document(doc_type=DocumentType.INVOICE)
    issue_document(draft)
    db.session.commit()
    assert draft.number == 3 and draft.display_number == "INV-000003"
    receipt = make_document(doc_type=DocumentType.RECEIPT)
    issue_document(receipt)
    assert receipt.number == 1
