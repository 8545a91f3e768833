"""Audit entries for records changed by hand in the admin's create/edit/delete forms."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import inspect

from ..models import record_audit


def _json_value(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):  # an uploaded file (a logo): its size, not its bytes
        return f"<{len(value):,} bytes>"
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def snapshot(record) -> dict:
    """The record's column values, JSON-ready (secrets left out)."""
    return {
        attr.key: _json_value(getattr(record, attr.key))
        for attr in inspect(record).mapper.column_attrs
        if "password" not in attr.key
    }


def pending_changes(record) -> tuple[dict, dict]:
    """(before, after) of the columns changed in this unit of work."""
    before, after = {}, {}
    state = inspect(record)
    for attr in state.mapper.column_attrs:
        if "password" in attr.key:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            before[attr.key] = _json_value(history.deleted[0]) if history.deleted else None
            after[attr.key] = _json_value(history.added[0]) if history.added else None
    return before, after


def audit_form_save(record, *, actor, is_created: bool) -> None:
    if is_created:
        record_audit(actor=actor, action="create", target=record, after=snapshot(record),
                     summary=f"Created {record}")
        return
    before, after = pending_changes(record)
    if after:
        record_audit(actor=actor, action="edit", target=record, before=before, after=after,
                     summary=f"Edited {', '.join(sorted(after))}")


def audit_form_delete(record, *, actor) -> None:
    record_audit(actor=actor, action="delete", target=record, before=snapshot(record),
                 summary=f"Deleted {record}")
