"""A plan's public Subscription Link: its address, and how the audit log names it."""

from __future__ import annotations

from ..links import public_url
from ..models import Plan


def public_plan_url(plan: Plan) -> str:
    """The full address of the plan's public page, under ``PUBLIC_BASE_URL``."""
    return public_url("public.subscribe", token=plan.public_token)


def token_ending(token: str) -> str:
    # NOTE: the audit log names a link by its last characters only: a full token in the log
    # would be a working link for anyone who can read the log.
    return f"…{token[-4:]}"


def invitation_url(invitation) -> str:
    """The full address of a personal invitation's page, under ``PUBLIC_BASE_URL``."""
    return public_url("public.invitation", token=invitation.token)
