"""The clinic's logo (Settings → Cashier settings → Logo) for the members' pages: ``/logo``.

One upload serves every page a member sees: the printed documents embed it, and the sign-up
and document pages link here. No sign-in; 404 when no logo is set.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, request, url_for

from ..models import CashierSettings

bp = Blueprint("public_logo", __name__)


def logo_url(settings: CashierSettings) -> str | None:
    """The logo's address for a member's page (its digest in the query string, so a new upload
    is never hidden by a cached old one), or ``None`` when the clinic has no logo."""
    if not settings.logo:
        return None
    return url_for("public_logo.logo", v=hashlib.sha256(settings.logo).hexdigest()[:12])


@bp.route("/logo")
def logo():
    settings = CashierSettings.get()
    if not settings.logo:
        abort(404)
    return Response(settings.logo, mimetype=settings.logo_type or "image/png", headers={
        "Cache-Control": "public, max-age=86400" if request.args.get("v") else "no-cache"})
