"""Login is required everywhere; passwords are hashed; every POST needs a CSRF token."""

from __future__ import annotations

import re

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
                                 "owner", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    user = db.session.query(AdminUser).filter_by(email="boss@clinic.example").one()
    assert user.check_password("long-enough-pw") and user.role.value == "owner"
    short = runner.invoke(args=["create-admin", "--email", "a@b.c", "--password", "short"])
    assert short.exit_code != 0
