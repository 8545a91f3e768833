"""The success sentence an action recorded for its submission, to show the admin as is."""

from __future__ import annotations

from ..extensions import db
from ..models import ActionRequest


def done_message(idempotency_key: str, fallback: str) -> str:
    """What the action carried out under ``idempotency_key`` said it did (its message names
    the documents issued, the credits taken back...), or ``fallback``."""
    request = db.session.get(ActionRequest, idempotency_key)
    return request.message if request is not None and request.message else fallback
