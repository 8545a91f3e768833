"""No open redirect: the sign-in page's ``next`` and every page's ``url`` (the way back) only
ever lead to a page of this site; anything else is a clear 400 up front, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from admin_app.redirects import safe_next

OFF_SITE = ["http:evil.example", "//evil.example", "https://evil.example", "/\\evil.example",
            "////evil.example/", "http://evil.example/admin/", "javascript:alert(1)",
            "/admin/\r\nLocation: http://evil.example", "/admin/\n", "/admin/\rx"]


def _stays_here(response) -> None:
    assert response.status_code < 500
    location = response.headers.get("Location", "")
    assert "evil.example" not in location
    assert not location.startswith("//")


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_every_off_site_target(target):
    assert safe_next(target, "/admin/") == "/admin/"


@pytest.mark.parametrize("target", ["/admin/", "/admin/payment/?page=1&sort=2",
                                    "/admin/contact/card/?id=3#payments"])
def test_safe_next_follows_a_same_site_path(target):
    assert safe_next(target, "/fallback") == target


def _pages(records) -> list[str]:
    payment = records["payment"].id
    return [f"/admin/contact/edit/?id={records['contact'].id}",
            f"/admin/contact/details/?id={records['contact'].id}",
            f"/admin/payment/details/?id={payment}",
            f"/admin/payment/refund/?id={payment}",
            "/admin/contact/new/"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_an_off_site_url_is_refused_on_every_kind_of_page(client, login, records, target):
    login("owner")
    for page in _pages(records):
        response = client.get(f"{page}&url={quote(target, safe='')}" if "?" in page
                              else f"{page}?url={quote(target, safe='')}")
        assert response.status_code == 400, page
        assert b"must be a page of this site" in response.data
        _stays_here(response)


@pytest.mark.parametrize("target", OFF_SITE)
def test_an_off_site_url_in_a_posted_form_is_refused(client, login, records, target):
    login("owner")
    payment = records["payment"]
    posts = [("/admin/payment/action/", {"action": "check_with_processor",
                                         "rowid": [str(payment.id)]}),
             ("/admin/contact/delete/", {"id": str(records["draft"].contact_id)}),
             (f"/admin/payment/refund/?id={payment.id}", {"amount": "1.00"})]
    for page, data in posts:
        response = client.post(page, data={**data, "url": target})
        assert response.status_code == 400, page
        _stays_here(response)


def test_a_same_site_url_is_still_followed(client, login, records):
    login("owner")
    contact = records["contact"]
    response = client.post(f"/admin/contact/edit/?id={contact.id}&url=/admin/contact/%3Fpage%3D0",
                           data={"first_name": "Grace", "last_name": "Hopper",
                                 "status": "active", "email": contact.email})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/contact/?page=0"


def test_an_empty_url_falls_back_to_the_list(client, login, records):
    login("owner")
    response = client.get("/admin/payment/refund/?id=999999&url=")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/payment/")


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_leaves_the_site(client, app, target):
    from tests.factories import make_admin

    user = make_admin(role="owner")
    response = client.post(f"/admin/login?next={quote(target, safe='')}",
                           data={"email": user.email, "password": "secret-pw"})
    assert response.status_code == 302
    _stays_here(response)
    assert response.headers["Location"] == "/admin/"
