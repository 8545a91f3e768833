"""The tests of this folder run the panel on the Stripe gateway, pointed at localstripe
(``tests/localstripe.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config, localstripe) -> dict:
    """The tests' ``app_config`` with the panel switched to the Stripe gateway, pointed at
    localstripe (so the ``app`` fixture here is a Stripe-backed panel)."""
    return {**app_config, "PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_API_BASE": localstripe}
