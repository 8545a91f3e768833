"""The boundary between the two phases of every processor call (STYLE.md, "Two phases").

Phase 1, the caller's transaction: checks, row locks, and the pending attempt written with a
reference that never repeats. ``ask_processor`` commits it — the attempt now survives a crash,
and the pending attempt itself blocks a second charge and counts against what may still be
refunded — then calls the processor with no transaction open and no lock held. Phase 2 is the
caller's next transaction: it re-reads and locks its rows and applies the answer through
``settling``, the same code reconcile and the webhooks use.

A crash between the phases leaves the attempt pending: ``payments reconcile`` settles it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Literal, TypeVar

from ..extensions import db
from ..payments import GatewayUnavailable

T = TypeVar("T")


class _Unanswered(Enum):
    UNANSWERED = "unanswered"


UNANSWERED = _Unanswered.UNANSWERED
"""The processor did not answer (down, timeout, 5xx): the outcome is not known."""

Unanswered = Literal[_Unanswered.UNANSWERED]


def ask_processor(call: Callable[..., T], /, *args, **arguments) -> T | Unanswered:
    """Commit phase 1, then ``call(*args, **arguments)`` with no transaction open.

    The arguments are evaluated by the caller before the commit: plain values, never an ORM
    attribute the call would load (that would open a transaction again). What the processor
    refuses (``CardRejected``...) is raised to the caller, in phase 2."""
    db.session.commit()
    if db.session().in_transaction():  # pragma: no cover - a broken caller, not a user error
        raise RuntimeError("a processor call must not run inside a transaction")
    try:
        return call(*args, **arguments)
    except GatewayUnavailable:
        return UNANSWERED
