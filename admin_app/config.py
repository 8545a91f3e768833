"""Settings from the environment, with embedded defaults that make ``make run`` work offline."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

from flask import Flask

# The Alembic migrations ship inside the package, so an installed wheel can upgrade a database.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def instance_dir() -> Path:
    """The instance folder (SQLite database, offline gateway records, generated secret key):
    ``ADMIN_APP_INSTANCE``, else ``instance/`` in the working directory.

    NOTE: never next to the package: installed, that is site-packages (shared by every
    deployment of the venv, and wiped with it). ``make run`` runs from the checkout, so the
    checkout's ``instance/`` it is.
    """
    return Path(os.environ.get("ADMIN_APP_INSTANCE") or "instance").resolve()


def default_public_base_url() -> str:
    """Where members reach the panel when ``PUBLIC_BASE_URL`` is not set: this machine, on
    ``PORT`` (5000), as ``make run`` serves it. Set ``PUBLIC_BASE_URL`` in production."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"


def _in_instance(instance: Path, name: str) -> str:
    return f"sqlite:///{instance / name}"


def prepare_instance(app: Flask) -> None:
    """Create the instance folder when something is kept there, and take ``SECRET_KEY`` from
    its key file when none was given."""
    instance = Path(app.instance_path)
    kept_there = [app.config.get(name) or "" for name in ("SQLALCHEMY_DATABASE_URI",
                                                           "OFFLINE_GATEWAY_URL")]
    if not app.config.get("SECRET_KEY") or any(
            url.startswith(f"sqlite:///{instance}{os.sep}") for url in kept_there):
        instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _kept_secret_key(instance)


def _kept_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder when SECRET_KEY is not set.

    Sessions survive restarts of a local server without a secret ever being committed. The
    file is written whole, once (several workers starting together agree on one key).
    """
    key_file = instance / "secret_key"
    if not key_file.exists():
        with tempfile.NamedTemporaryFile("w", dir=instance, delete=False) as new:
            new.write(os.urandom(32).hex())
        os.chmod(new.name, 0o600)
        try:
            os.link(new.name, key_file)  # fails if another process made it first
        except FileExistsError:
            pass
        except OSError:  # a filesystem without hard links
            if not key_file.exists():
                os.replace(new.name, key_file)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(new.name)
    return key_file.read_text().strip()


def from_environment(instance: Path) -> dict:
    """The app's configuration, read from the environment at start-up; files it keeps by
    default live in ``instance``. ``SECRET_KEY`` may still be empty here: see
    ``prepare_instance``."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL",
                                                  _in_instance(instance, "admin_app.sqlite3")),
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
        # Seconds the payment processor gets to answer one call. Keep it well under the web
        # server's worker timeout (gunicorn --timeout 60 in the README): a worker killed
        # mid-call leaves a pending attempt for reconcile, never a lost one.
        "PROCESSOR_TIMEOUT": float(os.environ.get("PROCESSOR_TIMEOUT", 20)),
        # The job engine's queue (Huey): embedded SQLite in the instance folder, or
        # redis://host:6379/0 shared by several servers.
        "JOBS_URL": os.environ.get("JOBS_URL", _in_instance(instance, "jobs.sqlite3")),
        # A charge above this amount (major units of its currency) asks for a confirmation.
        "LARGE_AMOUNT": os.environ.get("LARGE_AMOUNT", "10000"),
        # Bulk actions over more rows than this run on the worker, with a progress page.
        "BULK_INLINE_MAX": int(os.environ.get("BULK_INLINE_MAX", 50)),
        "OFFLINE_GATEWAY_URL": os.environ.get(
            "OFFLINE_GATEWAY_URL", _in_instance(instance, "offline_gateway.sqlite3")),
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "USD"),
        # Every link sent or shown to members starts with it (admin_app/links.py).
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or default_public_base_url(),
        # Delivery of documents and messages (documents/providers.py): SMTP for email,
        # Twilio for SMS; with neither, messages go to Settings → Outbox.
        "SMTP_URL": os.environ.get("SMTP_URL"),
        "MAIL_FROM": os.environ.get("MAIL_FROM"),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM": os.environ.get("TWILIO_FROM"),
        "TWILIO_API_BASE": os.environ.get("TWILIO_API_BASE"),
        "DELIVERY_TIMEOUT": float(os.environ.get("DELIVERY_TIMEOUT", 20)),
        # A SQLite list's CSV export sorted by its key is written by this many processes
        # (one per core, up to 4; 0 or 1: by the web worker alone), in blocks of this many
        # keys, once the table spans this many keys (views/csv_blocks.py).
        "EXPORT_PROCESSES": int(os.environ.get("EXPORT_PROCESSES",
                                               min(os.cpu_count() or 1, 4))),
        "EXPORT_BLOCK_KEYS": int(os.environ.get("EXPORT_BLOCK_KEYS", 25_000)),
        "EXPORT_SPLIT_FROM_KEYS": int(os.environ.get("EXPORT_SPLIT_FROM_KEYS", 100_000)),
        # "Download selected" of more documents than this makes the zip on the worker.
        "ZIP_INLINE_MAX": int(os.environ.get("ZIP_INLINE_MAX", 50)),
        # How long the public link of a document sent by SMS works (30 days).
        "DOCUMENT_LINK_MAX_AGE": int(os.environ.get("DOCUMENT_LINK_MAX_AGE", 30 * 24 * 3600)),
        "SESSION_COOKIE_HTTPONLY": True,
        # "Keep me signed in": the remember-me cookie, as guarded as the session's.
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(os.environ.get("REMEMBER_DAYS", 14))),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        # Sign-in: wrong passwords allowed in a row before the account is locked, and for how
        # long; attempts allowed per address (Flask-Limiter; its storage: memory, or Redis).
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", 5)),
        "LOGIN_LOCK_MINUTES": int(os.environ.get("LOGIN_LOCK_MINUTES", 15)),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # In the same place as the job engine's queue when that is Redis (several servers
        # share the counts); memory otherwise (Flask-Limiter has no SQLite storage).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or _limiter_storage(
            os.environ.get("JOBS_URL", "")),
        # The plan link's sign-up page: payment attempts per address and per link, and the
        # declined attempts from one address in an hour before it is refused.
        "SIGNUP_RATE_LIMIT": os.environ.get("SIGNUP_RATE_LIMIT", "10 per minute;30 per hour"),
        "SIGNUP_LINK_RATE_LIMIT": os.environ.get("SIGNUP_LINK_RATE_LIMIT", "120 per hour"),
        "SIGNUP_MAX_DECLINES": int(os.environ.get("SIGNUP_MAX_DECLINES", 5)),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
    }


def _limiter_storage(jobs_url: str) -> str:
    """Flask-Limiter's storage: the job engine's Redis when it has one, else memory."""
    return jobs_url if jobs_url.startswith(("redis://", "rediss://")) else "memory://"

