"""The job tests' own fixtures (the workers and Redis: ``tests/workers.py``)."""

from __future__ import annotations

import pytest

from tests.workers import job, wait_for  # noqa: F401  (the job tests' helpers)


@pytest.fixture
def owner(app):
    from tests.factories import make_admin

    return make_admin(role="owner")
