"""Login is required everywhere; passwords are hashed; every POST needs a CSRF token."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import AdminUser
from tests.factories import make_admin

ADMIN_URLS = ["/admin/", "/admin/contact/", "/admin/payment/", "/admin/audit_entry/",
              "/admin/contact/export/csv/", "/admin/search/?q=a", "/admin/search/suggest?q=ab",
              "/admin/cashier_settings/"]


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_urls_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login" in response.location


def test_login_logout(client, app):
    user = make_admin(role="cashier", email="desk@example.com")
    assert user.password_hash != "secret-pw" and user.check_password("secret-pw")
    bad = client.post("/admin/login", data={"email": "desk@example.com", "password": "nope"})
    assert bad.status_code == 200 and b"Wrong email or password" in bad.data
    good = client.post("/admin/login?next=/admin/contact/",
                       data={"email": "DESK@example.com", "password": "secret-pw"})
    assert good.status_code == 302 and good.location.endswith("/admin/contact/")
    assert client.get("/admin/contact/").status_code == 200
    assert db.session.get(AdminUser, user.id).last_login_at is not None
    client.post("/admin/logout")
    assert client.get("/admin/contact/").status_code == 302


def test_login_never_redirects_off_site(client, app):
    make_admin(email="x@example.com")
    response = client.post("/admin/login?next=https://evil.example/",
                           data={"email": "x@example.com", "password": "secret-pw"})
    assert response.location.endswith("/admin/")


def test_disabled_user_cannot_log_in(client, app):
    make_admin(email="gone@example.com", is_enabled=False)
    response = client.post("/admin/login",
                           data={"email": "gone@example.com", "password": "secret-pw"})
    assert b"disabled" in response.data
    assert client.get("/admin/").status_code == 302


@pytest.fixture
def csrf_client(app_config):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        make_admin(email="csrf@example.com")
        yield app.test_client()
        db.session.remove()



def test_post_without_csrf_token_is_rejected(csrf_client):
    response = csrf_client.post("/admin/login",
                                data={"email": "csrf@example.com", "password": "secret-pw"})
    assert response.status_code == 400
    page = csrf_client.get("/admin/login").get_data(as_text=True)
    match = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    ok = csrf_client.post("/admin/login", data={"email": "csrf@example.com",
                                                "password": "secret-pw",
                                                "csrf_token": match.group(1)})
    assert ok.status_code == 302
    # Signed in, a model form POST without the token is refused and changes nothing.
    refused = csrf_client.post("/admin/contact/new/", data={"first_name": "Mallory",
                                                            "last_name": "X", "status": "active"})
    assert refused.status_code == 400
    from admin_app.models import Contact

    assert db.session.query(Contact).filter_by(first_name="Mallory").count() == 0
    assert csrf_client.post("/admin/logout").status_code == 400


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", "Boss@Clinic.example", "--role",
                                 "owner", "--password", "a long enough passphrase"])
    assert result.exit_code == 0, result.output
    user = db.session.query(AdminUser).filter_by(email="boss@clinic.example").one()
    assert user.check_password("a long enough passphrase") and user.role.value == "owner"
    for weak in ("short", "eleven char", " " * 14, "password1234", "aaaaaaaaaaaaaa",
                 "12345678901234"):
        refused = runner.invoke(args=["create-admin", "--email", "a@b.c", "--password", weak])
        assert refused.exit_code != 0, weak
    assert db.session.query(AdminUser).filter_by(email="a@b.c").count() == 0


# --- sessions that end ------------------------------------------------------------------------

def _signed_in_client(app, email: str, *, remember: bool = False):
    client = app.test_client()
    response = client.post("/admin/login", data={"email": email, "password": "secret-pw",
                                                 "remember": "y" if remember else ""})
    assert response.status_code == 302
    return client


def _cookies(client) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def _status_with(app, cookies: dict[str, str], url: str = "/admin/contact/") -> int:
    """The status of ``url`` for a browser holding only ``cookies``, in an app context of its
    own (as every real request has: no user remembered from an earlier request)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    with app.app_context():
        return other.get(url).status_code


def test_a_copied_session_cookie_dies_at_logout(app):
    make_admin(email="desk@example.com")
    client = _signed_in_client(app, "desk@example.com", remember=True)
    copied = _cookies(client)
    assert {"session", "remember_token"} <= set(copied)
    assert _status_with(app, copied) == 200
    client.post("/admin/logout")
    assert _status_with(app, copied) == 302
    only_remember = {"remember_token": copied["remember_token"]}
    assert _status_with(app, only_remember) == 302


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_a_password_role_or_enabled_change_ends_the_users_other_sessions(app, change):
    user = make_admin(email="desk@example.com", role="cashier")
    copied = _cookies(_signed_in_client(app, "desk@example.com", remember=True))
    db.session.expire_all()
    user = db.session.get(AdminUser, user.id)
    if change == "password":
        user.set_password("a brand new passphrase")
    elif change == "role":
        user.role = "viewer"
    else:
        user.is_enabled = False
    db.session.commit()
    assert _status_with(app, copied) == 302


def test_saving_a_user_unchanged_keeps_their_sessions(app):
    user = make_admin(email="desk@example.com", role="cashier")
    copied = _cookies(_signed_in_client(app, "desk@example.com"))
    user = db.session.get(AdminUser, user.id)
    user.role, user.is_enabled = user.role, True
    db.session.commit()
    assert _status_with(app, copied) == 200


def test_the_remember_cookie_is_guarded_and_lasts_the_setting(app_config):
    app = create_app({**app_config, "SESSION_COOKIE_SECURE": True,
                      "REMEMBER_COOKIE_SECURE": True})
    with app.app_context():
        make_admin(email="desk@example.com")
        client = app.test_client()
        # Over https: with SESSION_COOKIE_SECURE=1 plain http is redirected there first.
        response = client.post("/admin/login", base_url="https://localhost", data={
            "email": "desk@example.com", "password": "secret-pw", "remember": "y"})
        header = next(h for h in response.headers.getlist("Set-Cookie")
                      if h.startswith("remember_token="))
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
        assert app.config["REMEMBER_COOKIE_DURATION"].days == 14
        db.session.remove()


# --- wrong passwords --------------------------------------------------------------------------

def test_an_account_locks_after_too_many_wrong_passwords_and_says_so(client, app):
    from admin_app.models import AuditEntry

    make_admin(email="desk@example.com")
    page = client.get("/admin/login").get_data(as_text=True)
    assert "5 wrong passwords" in page and "locked for 15 minutes" in page
    for _ in range(4):
        client.post("/admin/login", data={"email": "desk@example.com", "password": "nope"})
    locked = client.post("/admin/login", data={"email": "desk@example.com", "password": "no"})
    assert b"locked for 15 minutes" in locked.data
    right = client.post("/admin/login", data={"email": "desk@example.com",
                                              "password": "secret-pw"})
    assert right.status_code == 200 and b"locked" in right.data
    assert client.get("/admin/").status_code == 302
    (entry,) = db.session.query(AuditEntry).filter_by(action="lock_admin_user").all()
    assert "desk@example.com" in entry.summary


def test_a_locked_account_opens_again_after_the_lock(client, app):
    from datetime import timedelta

    from admin_app.clock import freeze, utcnow

    make_admin(email="desk@example.com")
    start = utcnow()
    freeze(start)
    try:
        for _ in range(5):
            client.post("/admin/login", data={"email": "desk@example.com", "password": "nope"})
        freeze(start + timedelta(minutes=16))
        right = client.post("/admin/login", data={"email": "desk@example.com",
                                                  "password": "secret-pw"})
    finally:
        freeze(None)
    assert right.status_code == 302


def test_sign_in_attempts_are_rate_limited_per_address(app_config):
    from admin_app.extensions import limiter

    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute",
                      "LOGIN_MAX_FAILURES": 100})
    with app.app_context(), _limiter_restored(limiter):
        make_admin(email="desk@example.com")
        client = app.test_client()
        codes = [client.post("/admin/login", data={"email": f"u{n}@example.com",
                                                   "password": "x"}).status_code
                 for n in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.post("/admin/login", data={"email": "desk@example.com",
                                                    "password": "secret-pw"})
        assert refused.status_code == 429 and b"Too many sign-in attempts" in refused.data
        db.session.remove()


@contextmanager
def _limiter_restored(limiter):
    """The limiter is one per process (as the app is in production): switched back off, and
    its counts forgotten, for the tests that follow in this worker."""
    try:
        yield
    finally:
        limiter.reset()
        limiter.enabled = False


@pytest.mark.parametrize("target", ["////evil.example/", "//evil.example", "http:evil.example",
                                    "https://evil.example/x", "/\\evil.example",
                                    "/admin/\r\nSet-Cookie:x=1", "javascript:alert(1)"])
def test_login_follows_only_same_site_paths(client, app, target):
    make_admin(email="x@example.com")
    response = client.post("/admin/login", query_string={"next": target},
                           data={"email": "x@example.com", "password": "secret-pw"})
    assert response.status_code == 302
    assert response.location.endswith("/admin/") and "evil" not in response.location
