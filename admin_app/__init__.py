"""Billing & subscription admin panel: the application factory."""

from __future__ import annotations

from flask import Flask, redirect, url_for

from . import config as app_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .links import check_public_base_url


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: configuration (environment, then ``overrides``), extensions, the admin
    views and the CLI."""
    instance = app_config.instance_dir()
    app = Flask(__name__, instance_path=str(instance))
    app.config.from_mapping(app_config.from_environment(instance))
    if overrides:
        app.config.update(overrides)
    app_config.prepare_instance(app)
    app.config["PUBLIC_BASE_URL"] = check_public_base_url(app.config.get("PUBLIC_BASE_URL"))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app_config.MIGRATIONS_DIR),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to open the admin."
    login_manager.login_message_category = "info"

    from . import models  # noqa: F401  (registers the tables)
    from .auth import bp as auth_bp
    from .cli import register_cli
    from .jobs import tasks  # noqa: F401  (registers the worker's tasks)
    from .jobs.engine import init_jobs
    from .public.card import bp as public_card_bp
    from .public.documents import bp as public_document_bp
    from .public.logo import bp as public_logo_bp
    from .public.subscribe import bp as public_bp
    from .request_guards import register_request_guards
    from .security_headers import init_security_headers
    from .views import init_admin
    from .webhooks.stripe import bp as stripe_webhook_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(public_card_bp)
    app.register_blueprint(public_document_bp)
    app.register_blueprint(public_logo_bp)
    app.register_blueprint(stripe_webhook_bp)
    init_admin(app)
    register_request_guards(app)
    init_security_headers(app)
    register_cli(app)
    init_jobs(app)

    from .money import format_money
    from .views.action_forms import new_idempotency_key
    from .views.formatting import badge, format_datetime, format_day, link_to_record

    app.jinja_env.globals.update(format_money=format_money, format_datetime=format_datetime,
                                 format_day=format_day, link_to_record=link_to_record,
                                 status_badge=badge, new_idempotency_key=new_idempotency_key)

    @app.route("/")
    def root():
        return redirect(url_for("admin.index"))

    @app.route("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.svg")

    return app
