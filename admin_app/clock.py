"""The one clock of the app: tests move it instead of sleeping (renewals, expiries, windows)."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin the clock to ``at`` (aware); ``None`` lets it run again. For tests and seeds."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at


def frozen_at() -> datetime | None:
    """Where the clock is pinned (``None``: it runs), to put it back after moving it."""
    return _frozen
