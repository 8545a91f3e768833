"""The top bar's quick contact search and the lists' own search."""

from __future__ import annotations

import pytest

from admin_app.extensions import db
from tests.factories import make_contact

pytestmark = pytest.mark.all_databases  # matching and ordering are the database's


def _people():
    a = make_contact(first_name="Grace", last_name="Hopper", email="grace@navy.example",
                     phone="+1 202 555 0147")
    b = make_contact(first_name="Grace", last_name="Kelly", email="gk@monaco.example",
                     phone="+377 555 0199")
    c = make_contact(first_name="Alan", last_name="Turing", email="alan@bletchley.example",
                     phone="+44 20 5550 0101")
    db.session.commit()
    return a, b, c


def test_one_match_opens_the_contact_card(client, login, app):
    login("viewer")
    hopper, _, turing = _people()
    for query in ("hopper", "Grace Hop", "grace@navy", "0147"):
        response = client.get(f"/admin/search/?q={query}")
        assert response.status_code == 302, query
        assert response.location.endswith(f"/admin/contact/details/?id={hopper.id}")
    assert client.get("/admin/search/?q=alan%20turing").location.endswith(f"id={turing.id}")


def test_several_matches_list_them(client, login, app):
    login("viewer")
    _people()
    html = client.get("/admin/search/?q=grace").get_data(as_text=True)
    assert "Grace Hopper" in html and "Grace Kelly" in html and "Alan" not in html


def test_no_match_offers_to_add_a_contact(client, login, app):
    login("viewer")
    _people()
    html = client.get("/admin/search/?q=zzz").get_data(as_text=True)
    assert "No contact matches" in html


def test_suggestions_are_json(client, login, app):
    login("viewer")
    _people()
    data = client.get("/admin/search/suggest?q=gra").get_json()
    assert [d["name"] for d in data] == ["Grace Hopper", "Grace Kelly"]
    assert data[0]["url"].startswith("/admin/contact/details/")
    assert client.get("/admin/search/suggest?q=g").get_json() == []


def test_wildcards_are_literal(client, login, app):
    login("viewer")
    _people()
    assert client.get("/admin/search/suggest?q=%25%25").get_json() == []


def test_contacts_list_search(client, login, app):
    login("viewer")
    _people()
    html = client.get("/admin/contact/?search=turing").get_data(as_text=True)
    assert "Turing" in html and "Hopper" not in html
