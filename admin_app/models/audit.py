"""The audit log: who did what to which record, with before/after. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .admin_user import AdminUser
from .base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False,
                                                 index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(String(60), nullable=False)
    target_id: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(String(300))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[AdminUser | None] = relationship()

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} #{self.target_id}"


def record_audit(*, actor, action: str, target, summary: str | None = None,
                 before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits). ``actor`` is an
    admin user, or the panel itself (``actors.SYSTEM``, whose ``id`` is None)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__tablename__ if hasattr(target, "__tablename__") else str(target),
        target_id=str(getattr(target, "id", "") or "") or None,
        summary=summary,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry
