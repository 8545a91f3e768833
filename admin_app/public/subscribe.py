"""Public pages members open without signing in: a plan's subscription link, /join/<token>.

Online sign-up and payment behind the link are their own issue; until then the page names the
plan and says so.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import CashierSettings, Plan

bp = Blueprint("public", __name__, url_prefix="/join")


def plan_for_token(token: str) -> Plan | None:
    """The plan whose public link this is, while the link is on and the plan is sold."""
    plan = db.session.scalar(select(Plan).where(Plan.public_token == token))
    if plan is None or not plan.is_public_link_enabled or not plan.is_active:
        return None
    return plan


@bp.route("/<token>")
def subscribe(token: str):
    plan = plan_for_token(token)
    if plan is None:
        abort(404)  # unknown, regenerated or switched-off links all look the same
    business = db.session.get(CashierSettings, 1)
    return render_template("public/subscribe.html", plan=plan,
                           business_name=(business.business_name if business else "") or "")
