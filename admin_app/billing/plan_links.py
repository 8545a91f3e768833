"""A plan's public Subscription Link: its address, and how the audit log names it."""

from __future__ import annotations

from ..models import Plan


def public_plan_url(plan: Plan) -> str:
    """The full address of the plan's public page (a path when no request or SERVER_NAME
    tells which host the members reach)."""
    from flask import current_app, has_request_context, url_for

    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("public.subscribe", token=plan.public_token, _external=True)
    adapter = current_app.url_map.bind("localhost")
    return adapter.build("public.subscribe", {"token": plan.public_token})


def token_ending(token: str) -> str:
    # NOTE: the audit log names a link by its last characters only: a full token in the log
    # would be a working link for anyone who can read the log.
    return f"…{token[-4:]}"
