"""Who may see and change what: login on every admin URL, and roles.

owner: everything, including admin users; manager: everything but admin users;
cashier: directories, money and records; viewer: reads every page, changes nothing.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..models import Role

ALL_ROLES = frozenset(Role)
STAFF_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})


class AccessMixin:
    """Mixed into every admin view. ``read_roles`` may open the view; ``write_roles`` may
    create, edit and delete (each still gated by the view's ``allow_*`` flags)."""

    read_roles: frozenset[Role] = ALL_ROLES
    write_roles: frozenset[Role] = STAFF_ROLES

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and current_user.role in self.read_roles)

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated:
            flash("Your role does not give access to that page.", "error")
            return redirect(url_for("admin.index"))
        return redirect(url_for("auth.login", next=request.full_path))

    @property
    def may_write(self) -> bool:
        return bool(current_user.is_authenticated and current_user.role in self.write_roles)
