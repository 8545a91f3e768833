from __future__ import annotations

import os
import warnings
from uuid import uuid4

import pytest
from sqlalchemy import select

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
OFFLINE_SETUPS = [(backend, "offline") for backend in BACKENDS if "offline" in GATEWAYS]
SETUPS = OFFLINE_SETUPS + ([(STRIPE_BACKEND, "stripe")] if "stripe" in GATEWAYS else [])
# A test that asks for one of these reaches the processor: it runs on the Stripe leg too.
PROCESSOR_FIXTURES = {"processor", "stripe_proxy", "localstripe", "stripe_gateway"}


def reaches_processor(fixturenames, node) -> bool:
    """Whether a test runs on the Stripe leg: it asks for the ``processor`` fixture (or another
    of ``PROCESSOR_FIXTURES``, directly or through its fixtures), or is marked
    ``@pytest.mark.processor`` (it reaches the processor through a helper such as
    ``give_card`` or ``subscriber`` without looking at what the processor holds).
    ``TEST_STRIPE_LEG=all`` puts every action test on the Stripe leg; a test marked
    ``@pytest.mark.offline_gateway_only`` (localstripe cannot play its part) never is."""
    if node.get_closest_marker("offline_gateway_only") is not None:
        return False
    return bool(PROCESSOR_FIXTURES & set(fixturenames)) or \
        node.get_closest_marker("processor") is not None or \
        os.environ.get("TEST_STRIPE_LEG") == "all"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "action_setup" not in metafunc.fixturenames:
        return
    on_stripe = reaches_processor(metafunc.fixturenames, metafunc.definition)
    setups = SETUPS if on_stripe or not OFFLINE_SETUPS else OFFLINE_SETUPS
    metafunc.parametrize("action_setup", setups, indirect=True,
                         ids=[f"{backend}-{gateway}" for backend, gateway in setups])


@pytest.fixture
def action_setup(request) -> tuple[str, str]:
    """Every action test runs on the offline gateway on each database; a test that reaches the
    processor (``reaches_processor``) runs once more on the Stripe gateway (localstripe) on
    PostgreSQL, the pairing of a real deployment: the workflows are proven on both gateways.
    ``TEST_GATEWAYS=offline`` narrows a local run."""
    return request.param


@pytest.fixture
def backend(action_setup) -> str:
    return action_setup[0]


@pytest.fixture
def gateway_kind(action_setup) -> str:
    return action_setup[1]


@pytest.fixture(autouse=True)
def _stripe_leg_guard(request):
    """Warn about a test that reached the (offline) processor but has no Stripe leg: it should
    ask for the ``processor`` fixture or be marked ``@pytest.mark.processor``."""
    yield
    callspec = getattr(request.node, "callspec", None)
    setup = callspec.params.get("action_setup") if callspec else None
    if setup is None or setup[1] != "offline" or \
            request.node.get_closest_marker("offline_gateway_only") is not None or \
            reaches_processor(request.fixturenames, request.node):
        return
    from admin_app.payments.offline import _engine, metadata

    with _engine(request.getfixturevalue("offline_gateway_url")).connect() as conn:
        used = any(conn.execute(select(table).limit(1)).first()
                   for table in metadata.sorted_tables)
    if used:
        warnings.warn("this test reached the payment processor but has no Stripe leg: ask "
                      "for the `processor` fixture or mark it @pytest.mark.processor",
                      StripeLegWarning, stacklevel=1)


class StripeLegWarning(UserWarning):
    """An action test reaches the processor without a Stripe leg."""
