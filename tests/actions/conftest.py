from __future__ import annotations

from uuid import uuid4

import pytest

from admin_app.extensions import db
from admin_app.models import AuditEntry
from tests.factories import make_admin


@pytest.fixture
def owner(app):
    return make_admin(role="owner")


@pytest.fixture
def cashier(app):
    return make_admin(role="cashier")


@pytest.fixture
def viewer(app):
    return make_admin(role="viewer")


@pytest.fixture
def key():
    """A fresh idempotency key, as an action form would carry."""
    return lambda: uuid4().hex


def audit_entries(action: str) -> list[AuditEntry]:
    return db.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.id).all()
