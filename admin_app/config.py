"""Settings from the environment, with embedded defaults that make ``make run`` work offline."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The Alembic migrations ship inside the package, so an installed wheel can upgrade a database.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
INSTANCE_DIR = Path(os.environ.get("ADMIN_APP_INSTANCE", PROJECT_DIR / "instance"))


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'admin_app.sqlite3'}"


def _secret_key() -> str:
    """A random key kept in the instance folder when SECRET_KEY is not set.

    Sessions survive restarts of a local server without a secret ever being committed.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(os.urandom(32).hex())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment() -> dict:
    """The app's configuration, read from the environment at start-up."""
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", _default_database_url()),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PAYMENT_GATEWAY": os.environ.get("PAYMENT_GATEWAY", "offline"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY"),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        # How long a payment-method link sent to a member works, in seconds (7 days).
        "PAYMENT_METHOD_LINK_MAX_AGE": int(os.environ.get("PAYMENT_METHOD_LINK_MAX_AGE",
                                                          7 * 24 * 3600)),
        "OFFLINE_GATEWAY_URL": os.environ.get(
            "OFFLINE_GATEWAY_URL", f"sqlite:///{INSTANCE_DIR / 'offline_gateway.sqlite3'}"),
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "USD"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
    }
