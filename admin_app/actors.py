"""Who carries out a business action: an admin user, or the panel itself.

The panel acts on its own when reconcile, a processor's webhook, a member's public page or a
background job settles or records something. It is an explicit actor, ``SYSTEM``, not a
missing user: its audit entries have no admin user and say which part of the panel acted.
"""

from __future__ import annotations

from typing import Union

from .models import AdminUser


class SystemActor:
    """The panel acting on its own: allowed every action, recorded with no admin user."""

    id = None
    is_system = True
    is_enabled = True
    role = None

    def __str__(self) -> str:
        return "the panel"


SYSTEM = SystemActor()

Actor = Union[AdminUser, SystemActor]  # noqa: UP007 (a runtime alias)
