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


def test_full_names_multi_word_surnames_and_formatted_phones(client, login, app):
    login("viewer")
    make_contact(first_name="Nora", last_name="Reed", phone="+1 (555) 013-5000")
    make_contact(first_name="Chloe", last_name="Van der Berg", phone="555-0135")
    make_contact(first_name="José", last_name="De la Cruz", email="jdlc@example.org")
    make_contact(first_name="Nora", last_name="Vance")
    db.session.commit()

    def names(query):
        return [d["name"] for d in client.get("/admin/search/suggest", query_string={
            "q": query}).get_json()]

    assert names("Nora Reed") == names("nor ree") == names("reed nora") == ["Nora Reed"]
    for query in ("Chloe Van der Berg", "van der", "berg chloe", "VAN DER BERG"):
        assert names(query) == ["Chloe Van der Berg"], query
    assert names("de la cruz") == names("jose cruz") == ["José De la Cruz"]
    for query in ("555-0135", "(555) 0135", "5550135", "0135"):
        assert names(query) == ["Chloe Van der Berg"], query
    assert names("013-5000") == ["Nora Reed"]
    assert names("nora") == ["Nora Reed", "Nora Vance"]
    html = client.get("/admin/contact/?search=van+der+berg").get_data(as_text=True)
    assert "Chloe" in html and "Reed" not in html


def test_a_renamed_contact_is_found_by_its_new_name_only(client, login, app):
    login("viewer")
    contact = make_contact(first_name="Ann", last_name="Old")
    db.session.commit()
    contact.last_name = "Van Dyke"
    db.session.commit()
    assert client.get("/admin/search/suggest?q=old").get_json() == []
    assert [d["name"] for d in client.get("/admin/search/suggest?q=ann+dyke").get_json()] == \
        ["Ann Van Dyke"]


def test_contact_pickers_find_full_names(client, login, app):
    login("manager")
    make_contact(first_name="Chloe", last_name="Van der Berg")
    make_contact(first_name="Chloe", last_name="Smith")
    db.session.commit()
    for endpoint in ("subscription", "appointment", "document"):
        found = client.get(f"/admin/{endpoint}/ajax/lookup/?name=contact&query=chloe+van+der"
                           ).get_json()
        assert [name for _, name in found] == ["Chloe Van der Berg"], endpoint


def test_lists_of_a_contact_s_rows_search_by_the_contact(client, login, app):
    from tests.factories import make_payment

    login("viewer")
    chloe = make_contact(first_name="Chloe", last_name="Van der Berg", phone="555-0135")
    other = make_contact(first_name="Nora", last_name="Reed")
    make_payment(contact=chloe, amount_minor=1234, gateway_id="pi_chloe")
    make_payment(contact=other, amount_minor=4321, gateway_id="pi_nora")
    db.session.commit()
    for query in ("chloe van der", "555-0135", "pi_chloe"):
        html = client.get("/admin/payment/", query_string={"search": query}).get_data(
            as_text=True)
        assert "12.34" in html and "43.21" not in html, query
