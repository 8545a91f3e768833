"""Login and logout of admin users (Flask-Login, hashed passwords).

- A session, and a "Keep me signed in" cookie, carry the user's session version
  (``AdminUser.get_id``): signing out, a new password, a new role or disabling the user raise
  it, which ends every copy of every cookie of that user, on every device.
- Wrong passwords: ``LOGIN_MAX_FAILURES`` in a row lock the account for
  ``LOGIN_LOCK_MINUTES`` (audited); each address may try ``LOGIN_RATE_LIMIT`` times
  (Flask-Limiter), whichever account it names. The page says so.
- After signing in, only a same-site path is followed (``redirects.safe_next``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from .actors import SYSTEM
from .clock import utcnow
from .extensions import db, limiter, login_manager
from .models import AdminUser, record_audit
from .redirects import safe_next

bp = Blueprint("auth", __name__, url_prefix="/admin")

WRONG = "Wrong email or password."


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


@login_manager.user_loader
def load_user(session_id: str) -> AdminUser | None:
    """The user a session or remember-me cookie names, if its session version is current."""
    user_id, _, version = str(session_id).partition(".")
    if not user_id.isdigit() or not version.isdigit() or len(user_id) > 18:
        return None
    user = db.session.get(AdminUser, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _too_many_attempts(_limit):
    form = LoginForm(formdata=None)
    flash("Too many sign-in attempts from this address: wait a minute, then try again.",
          "error")
    return make_response(render_template("auth/login.html", form=form, policy=_policy()), 429)


def _policy() -> str:
    config = current_app.config
    return (f"After {config['LOGIN_MAX_FAILURES']} wrong passwords in a row the account is "
            f"locked for {config['LOGIN_LOCK_MINUTES']} minutes.")


def _refuse_wrong_password(user: AdminUser | None) -> None:
    """Count a wrong password against the account; lock it (audited) at the limit."""
    if user is None:
        flash(WRONG, "error")
        return
    user.failed_logins = (user.failed_logins or 0) + 1
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if user.failed_logins >= limit:
        minutes = current_app.config["LOGIN_LOCK_MINUTES"]
        user.locked_until, user.failed_logins = utcnow() + timedelta(minutes=minutes), 0
        record_audit(actor=SYSTEM, action="lock_admin_user", target=user,
                     summary=f"{user.email} locked for {minutes} minutes after {limit} wrong "
                             f"passwords (last from {request.remote_addr}).")
        flash(f"{WRONG} The account is now locked for {minutes} minutes.", "error")
    else:
        flash(WRONG, "error")
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=_too_many_attempts)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("admin.index")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()[:254]
        user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
        if user is not None and user.locked_until is not None and user.locked_until > utcnow():
            flash("This account is locked after too many wrong passwords: try again in a few "
                  "minutes, or ask an owner.", "error")
        elif user is None or not user.check_password(form.password.data):
            _refuse_wrong_password(user)
        elif not user.is_enabled:
            flash("This admin user is disabled. Ask an owner to enable it.", "error")
        else:
            user.failed_logins, user.locked_until = 0, None
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("admin.index")))
    return render_template("auth/login.html", form=form, policy=_policy())


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out here and everywhere: the session version is raised, so a copy of this
    session's cookie, or of a remember-me cookie, signs no one in any more."""
    if current_user.is_authenticated:
        user = db.session.get(AdminUser, current_user.id)
        user.end_sessions()
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
