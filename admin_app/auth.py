"""Login and logout of admin users (Flask-Login, hashed passwords)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from .clock import utcnow
from .extensions import db, login_manager
from .models import AdminUser

bp = Blueprint("auth", __name__, url_prefix="/admin")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


@login_manager.user_loader
def load_user(user_id: str) -> AdminUser | None:
    return db.session.get(AdminUser, int(user_id))


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
        if user is None or not user.check_password(form.password.data):
            flash("Wrong email or password.", "error")
        elif not user.is_enabled:
            flash("This admin user is disabled. Ask an owner to enable it.", "error")
        else:
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
