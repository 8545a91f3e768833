"""Security headers on every response (Flask-Talisman).

- Content-Security-Policy: scripts only from this site, plus ``<script nonce=…>`` blocks the
  page itself renders (``csp_nonce()`` in templates; Flask-Admin's ``admin_csp_nonce_attribute``
  uses the same nonce). No inline event handlers (``onclick=``), no ``javascript:`` links, no
  other origins; ``frame-ancestors 'none'`` (no page may be framed: clickjacking). Styles may
  be inline: Flask-Admin and its widgets set ``style=`` attributes, and a style cannot run code.
- The member's card page adds the origin of ``STRIPE_JS_URL`` (script, frame, connect), and
  Stripe's documented hosts when that is Stripe itself, on that page only (``allow_stripe_js``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin``
  (the card page's address carries its token: other sites see only our origin),
  ``X-Frame-Options: DENY``.
- With ``SESSION_COOKIE_SECURE=1`` (served over HTTPS): plain-http requests are redirected to
  https and responses carry HSTS. Without it (``make run``, tests on 127.0.0.1) neither.
  The session cookie's flags stay the app's own (config.py): Talisman is told the same.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, has_request_context, request
from flask_talisman import Talisman

SELF = "'self'"

POLICY: dict[str, list[str]] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF, "'unsafe-inline'"],
    "img-src": [SELF, "data:"],
    "font-src": [SELF, "data:"],
    "connect-src": [SELF],
    "frame-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": ["'none'"],
}

# What Stripe.js needs beyond its own origin (Stripe's CSP guide), added when STRIPE_JS_URL is
# Stripe's: its API for connect-src, its 3-D Secure and Elements frames for frame-src.
STRIPE_EXTRA = {"script-src": ["https://*.js.stripe.com"],
                "frame-src": ["https://*.js.stripe.com", "https://hooks.stripe.com"],
                "connect-src": ["https://api.stripe.com"]}


class PanelTalisman(Talisman):
    """Talisman whose policy a view may widen for its own response (``allow_stripe_js``)."""

    def _get_local_options(self):
        options = dict(super()._get_local_options())
        extra: dict[str, list[str]] = getattr(request, "csp_extra_sources", None) or {}
        if extra and isinstance(options.get("content_security_policy"), dict):
            policy = {key: value.split() for key, value in
                      options["content_security_policy"].items()}
            for directive, sources in extra.items():
                policy[directive] = [s for s in policy.get(directive, []) if s != "'none'"]
                policy[directive] += [s for s in sources if s not in policy[directive]]
            options["content_security_policy"] = {k: " ".join(v) for k, v in policy.items()}
        return options


def csp_nonce() -> str:
    """This response's script nonce ('' outside a request)."""
    return getattr(request, "csp_nonce", "") if has_request_context() else ""


def allow_stripe_js(js_url: str) -> None:
    """Let this response load Stripe.js from ``js_url`` (and talk to it, and show its frames)."""
    parts = urlsplit(js_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    extra = {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]}
    if parts.hostname == "js.stripe.com":
        for directive, sources in STRIPE_EXTRA.items():
            extra[directive] = extra[directive] + sources
    # NOTE: on the request, not on g: an app context (and its g) may outlive one request
    # (tests keep one open), and another page must not inherit the widened policy.
    request.csp_extra_sources = extra


def init_security_headers(app: Flask) -> None:
    """One Talisman per app (it keeps its settings on itself, and tests run several apps)."""
    is_https = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.extensions["talisman"] = PanelTalisman(
        app,
        force_https=is_https,
        strict_transport_security=is_https,
        strict_transport_security_max_age=365 * 24 * 3600,
        strict_transport_security_include_subdomains=False,
        content_security_policy={key: " ".join(value) for key, value in POLICY.items()},
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_xss_protection=False,  # obsolete header; the CSP is the protection
        session_cookie_secure=is_https,
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
