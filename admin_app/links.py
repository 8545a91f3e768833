"""Addresses the panel sends or shows to members (a plan's Subscription Link, the
payment-method link, any link in a queued message): absolute, built from ``PUBLIC_BASE_URL``,
and the same whoever builds them: a view in a request, the CLI, a background worker.

NOTE: never from the request. An admin on an internal host name, a proxy that rewrites
``Host`` or a job with no request at all would otherwise send members different addresses
for the same page. Flask's ``SERVER_NAME`` is not used either: it would also make the app
refuse requests for any other host (health checks, the loopback address behind a proxy).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from .config import default_public_base_url


def check_public_base_url(value: str | None) -> str:
    """``value`` (or the default when empty) without its trailing slash, once it is known to
    be an ``http(s)://host[:port][/prefix]`` address; ``ValueError`` otherwise."""
    base = (value or default_public_base_url()).strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment:
        raise ValueError(f"PUBLIC_BASE_URL must look like https://billing.clinic.example "
                         f"(scheme, host, optional port and path prefix): {value!r}")
    return base


def public_base_url() -> str:
    """Where members reach the panel: ``PUBLIC_BASE_URL``, e.g. ``https://billing.clinic.example``."""
    return check_public_base_url(current_app.config.get("PUBLIC_BASE_URL"))


def public_url(endpoint: str, **values) -> str:
    """The absolute address of ``endpoint`` under ``PUBLIC_BASE_URL``: needs an app context,
    never a request."""
    parts = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)
