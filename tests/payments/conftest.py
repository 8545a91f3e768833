"""The tests of this folder run the panel on the Stripe gateway, pointed at localstripe
(``tests/localstripe.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def gateway_kind() -> str:
    """The panel of these tests runs on the Stripe gateway, pointed at localstripe."""
    return "stripe"
