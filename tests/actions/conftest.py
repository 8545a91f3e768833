from __future__ import annotations

import os
from uuid import uuid4

import pytest

from admin_app.extensions import db
from admin_app.models import AuditEntry
from tests.conftest import BACKENDS
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


STRIPE_BACKEND = "postgresql" if "postgresql" in BACKENDS else BACKENDS[0]
GATEWAYS = [g for g in os.environ.get("TEST_GATEWAYS", "offline,stripe").split(",") if g]
SETUPS = ([(backend, "offline") for backend in BACKENDS if "offline" in GATEWAYS]
          + ([(STRIPE_BACKEND, "stripe")] if "stripe" in GATEWAYS else []))


@pytest.fixture(params=SETUPS, ids=[f"{backend}-{gateway}" for backend, gateway in SETUPS])
def action_setup(request) -> tuple[str, str]:
    """Every action test runs on the offline gateway on each database, and once more on the
    Stripe gateway (localstripe) on PostgreSQL, the pairing of a real deployment: the
    workflows are proven on both gateways. ``TEST_GATEWAYS=offline`` narrows a local run."""
    return request.param


@pytest.fixture
def backend(action_setup) -> str:
    return action_setup[0]


@pytest.fixture
def gateway_kind(action_setup) -> str:
    return action_setup[1]
