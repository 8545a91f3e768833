"""Document numbers under concurrency: admins issuing drafts at the same moment get numbers
1..N of the type, with no gaps and no duplicates, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest

from admin_app.actions.issue_document import issue_draft_document
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import AdminUser, CashierSettings, Document, DocumentStatus, DocumentType
from tests.factories import make_admin, make_contact, make_document

THREADS = 8
pytestmark = pytest.mark.fresh_database  # threads committing at once, on a database of their own


@pytest.fixture
def app_config(app_config, database_url):
    """SQLite serialises writers: let a waiting writer wait instead of failing at once."""
    if database_url.startswith("sqlite"):
        app_config = {**app_config,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}}}
    return app_config


def _issue_at_once(app, document_ids: list[int], actor_id: int) -> tuple[list, list]:
    """Each thread, with its own app context (so its own session and connection), issues
    one draft; all start together."""
    barrier = threading.Barrier(len(document_ids))
    numbers, refusals, errors = [], [], []

    def issue(document_id: int) -> None:
        with app.app_context():
            try:
                document = db.session.get(Document, document_id)
                actor = db.session.get(AdminUser, actor_id)
                db.session.rollback()  # start the race without an open transaction
                barrier.wait(timeout=30)
                issued = issue_draft_document(document, actor=actor,
                                              idempotency_key=uuid4().hex).record
                numbers.append(issued.number)
            except ActionError as refusal:
                refusals.append(refusal.code)
            except Exception as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(i,)) for i in document_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return numbers, refusals


@pytest.fixture
def cashier_id(app) -> int:
    CashierSettings.get()  # the settings row exists, as in any configured clinic
    db.session.commit()
    return make_admin(role="cashier").id


def test_drafts_issued_at_once_get_contiguous_numbers(app, cashier_id):
    contact = make_contact()
    drafts = [make_document(contact=contact) for _ in range(THREADS)]
    make_document(contact=contact, doc_type=DocumentType.RECEIPT, issued_number=1)
    db.session.commit()
    numbers, refusals = _issue_at_once(app, [d.id for d in drafts], cashier_id)
    assert refusals == []
    assert sorted(numbers) == list(range(1, THREADS + 1))
    db.session.expire_all()
    stored = db.session.query(Document.number).filter(
        Document.doc_type == DocumentType.INVOICE).order_by(Document.number).all()
    assert [n for (n,) in stored] == list(range(1, THREADS + 1))


def test_one_draft_issued_by_many_admins_at_once_gets_one_number(app, cashier_id):
    draft = make_document()
    db.session.commit()
    numbers, refusals = _issue_at_once(app, [draft.id] * 4, cashier_id)
    assert numbers == [1] and refusals == ["document_not_draft"] * 3
    db.session.expire_all()
    assert db.session.get(Document, draft.id).status is DocumentStatus.ISSUED
    nxt = make_document()
    db.session.commit()
    actor = db.session.get(AdminUser, cashier_id)
    assert issue_draft_document(nxt, actor=actor, idempotency_key=uuid4().hex).record.number == 2
