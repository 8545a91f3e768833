"""Security headers on every kind of page: a strict CSP (the card page adds Stripe.js's origin,
on that page only), no framing, no sniffing, a referrer policy; HSTS and https only when the
panel runs with SESSION_COOKIE_SECURE=1."""

from __future__ import annotations

import re

import pytest

from admin_app.billing.payment_method_links import make_link_token
from admin_app.extensions import db


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def _assert_strict(response) -> None:
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    script = csp["script-src"]
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert script[0] == "'self'" and all(s.startswith("'nonce-") for s in script[1:])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_every_kind_of_page_carries_the_headers(client, login, records):
    plan = records["plan"]
    plan.public_token = plan.public_token or "join-token-for-headers"
    db.session.commit()
    public = [("/admin/login", 200), (f"/join/{plan.public_token}", 200),
              (f"/pay/card/{make_link_token(records['contact'])}", 200),
              ("/pay/card/not-a-token", 404)]
    for url, status in public:
        response = client.get(url)
        assert response.status_code == status, url
        _assert_strict(response)
        assert "js.stripe.com" not in response.headers["Content-Security-Policy"]
    login("owner")
    for url in ("/admin/", "/admin/payment/", f"/admin/contact/card/?id={records['contact'].id}",
                "/admin/does-not-exist"):
        response = client.get(url)
        assert response.status_code < 500, url
        _assert_strict(response)
    suggest = client.get("/admin/search/suggest?q=Gr")
    assert suggest.is_json
    _assert_strict(suggest)


def test_the_nonce_is_new_on_every_page_and_on_the_scripts(client, login, records):
    login("owner")
    nonces = []
    for _ in range(2):
        response = client.get("/admin/subscription/")
        nonce = _csp(response)["script-src"][1].removeprefix("'nonce-").rstrip("'")
        assert f'nonce="{nonce}"' in response.get_data(as_text=True)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_no_page_has_an_inline_handler_or_a_script_without_the_nonce(client, login, records):
    login("owner")
    pages = ["/admin/", "/admin/subscription/", "/admin/payment/", "/admin/plan/new/",
             f"/admin/plan/edit/?id={records['plan'].id}",
             f"/admin/document/edit/?id={records['draft'].id}",
             f"/admin/contact/card/?id={records['contact'].id}",
             f"/admin/plan/link/?id={records['plan'].id}"]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<[^>]+\son[a-z]+=", html), url
        assert not re.search(r"<script(?![^>]*\b(nonce|src)=)[^>]*>", html), url


@pytest.fixture
def https_app(app_config, app_pool):
    from tests.conftest import lent

    with lent(app_pool.get({**app_config, "SESSION_COOKIE_SECURE": True})) as app, \
            app.app_context():
        yield app


def test_over_https_the_panel_sends_hsts_and_moves_http_to_https(https_app):
    client = https_app.test_client()
    plain = client.get("/admin/login")
    assert plain.status_code in (301, 302)
    assert plain.headers["Location"].startswith("https://")
    secure = client.get("/admin/login", base_url="https://panel.example")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    config = https_app.config
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_over_plain_http_no_hsts_and_the_cookie_flags_stay_the_apps(client, app):
    response = client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    assert not app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
