"""People who log in to the admin, and what their role lets them do."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String, event, func
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.base import NO_VALUE
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import LabelledEnum, TimestampMixin, UTCDateTime, str_enum


class Role(LabelledEnum):
    """owner: everything; manager: everything but admin users; cashier: money and records;
    viewer: reads only."""

    OWNER = "owner"
    MANAGER = "manager"
    CASHIER = "cashier"
    VIEWER = "viewer"


class AdminUser(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    role: Mapped[Role] = mapped_column(str_enum(Role, "admin_role"), nullable=False,
                                       default=Role.VIEWER)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session and remember-me cookie of this user: raising it ends them all.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    is_system = False  # an admin user, not the panel acting on its own (``actors.SYSTEM``)

    def set_password(self, password: str) -> None:
        # NOTE: PASSWORD_HASH_METHOD (unset: scrypt) is for the test suite, which sets a cheap
        # one: a scrypt hash costs about 0.1 s, and the tests make an admin user in most tests.
        method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
        self.password_hash = generate_password_hash(password, method=method or "scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in
        return self.is_enabled

    def get_id(self) -> str:
        """Flask-Login's alternative id: the user and their session version, so a cookie
        copied before the version was raised no longer signs anyone in."""
        return f"{self.id}.{self.session_version or 0}"

    def end_sessions(self) -> None:
        """End every session and remember-me cookie of this user, everywhere."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def can_write(self) -> bool:
        return self.role is not Role.VIEWER

    @property
    def can_manage_users(self) -> bool:
        return self.role is Role.OWNER

    # Its name as lists' CSV exports write it (see ``Contact.label_columns``).
    label_columns = ("name", "email")

    @staticmethod
    def label_from(name: str | None, email: str | None) -> str | None:
        return name or email

    @staticmethod
    def label_sql(name, email):
        return func.coalesce(func.nullif(name, ""), email)

    def __str__(self) -> str:
        return self.label_from(self.name, self.email)


def _ends_sessions(attribute) -> None:
    """A change of ``attribute`` (password, role, enabled) ends the user's other sessions."""

    @event.listens_for(attribute, "set", active_history=True)
    def changed(target: AdminUser, value, old, initiator) -> None:
        if old is not NO_VALUE and old is not None and value != old:
            target.end_sessions()


for _attribute in (AdminUser.password_hash, AdminUser.role, AdminUser.is_enabled):
    _ends_sessions(_attribute)
