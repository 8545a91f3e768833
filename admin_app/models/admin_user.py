"""People who log in to the admin, and what their role lets them do."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
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

    @property
    def can_write(self) -> bool:
        return self.role is not Role.VIEWER

    @property
    def can_manage_users(self) -> bool:
        return self.role is Role.OWNER

    def __str__(self) -> str:
        return self.name or self.email
