"""The one bulk action page (``views/bulk_pages.py``): the four form-based bulk flows show the
rows they apply to and the form, read the ids strictly, and report every row."""

from __future__ import annotations

import pytest

from admin_app.extensions import db
from admin_app.models import Subscription
from tests.factories import make_contact, make_plan, make_subscription

# (list, @action name, the page's title for 2 rows, a valid form for the flow)
FLOWS = [
    ("subscription", "cancel_subscriptions", "Cancel 2 subscriptions",
     {"when": "period_end", "credits": "keep"}),
    ("subscription", "apply_promo", "Apply Promo to 2 subscriptions", {"promo_code": "NONE"}),
    ("contact", "adjust_credits", "Adjust credits of 2 contacts",
     {"service": "0", "quantity": "1", "reason": "x"}),
    ("contact", "send_plan_invitations", "Invite 2 contacts to a plan",
     {"plan": "0", "channel": "email"}),
    ("appointment", "charge_no_show_fee", "Charge the no-show fee for 2 appointment(s)",
     {"fee_minor": "7500", "confirm": "y"}),
]
BAD_SELECTIONS = ["1;1", "abc", "1,,2", "-1", "99999999999999999999", "1\x002", "", ","]


@pytest.fixture
def rows(app):
    plan = make_plan()
    contacts = [make_contact(first_name=name) for name in ("Ada", "Alan")]
    subscriptions = [make_subscription(contact=c, plan=plan) for c in contacts]
    db.session.commit()
    return {"subscription": [s.id for s in subscriptions],
            "contact": [c.id for c in contacts], "appointment": [1, 2]}


@pytest.mark.parametrize(("endpoint", "name", "title", "form"), FLOWS,
                         ids=[flow[1] for flow in FLOWS])
def test_page_shows_rows_and_form(client, login, rows, endpoint, name, title, form):
    login("manager")
    ids = rows[endpoint]
    page = client.post(f"/admin/{endpoint}/action/", data={
        "action": name, "rowid": [str(i) for i in ids], "url": f"/admin/{endpoint}/?page=0"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and title in html
    assert "Applies to 2 selected" in html and f"#{ids[0]}, #{ids[1]}" in html
    assert f'action="/admin/{endpoint}/bulk/{name}/?url=' in html
    assert f'name="row_ids" type="hidden" value="{ids[0]},{ids[1]}"' in html


@pytest.mark.parametrize(("endpoint", "name", "title", "form"), FLOWS,
                         ids=[flow[1] for flow in FLOWS])
def test_ticked_ids_are_read_strictly(client, login, rows, endpoint, name, title, form):
    login("manager")
    for bad in BAD_SELECTIONS:
        ticked = bad.split(",") if bad else []
        response = client.post(f"/admin/{endpoint}/action/", data={
            "action": name, "rowid": ticked, "url": f"/admin/{endpoint}/"})
        if "\x00" in bad:  # refused before any view runs (request_guards)
            assert response.status_code == 400, (bad, response.status_code)
            continue
        assert response.status_code == 302, (bad, response.status_code)
        html = client.get(response.location).get_data(as_text=True)
        assert "is not a row ID" in html or "No rows were selected" in html, bad


@pytest.mark.parametrize(("endpoint", "name", "title", "form"), FLOWS,
                         ids=[flow[1] for flow in FLOWS])
def test_submitted_ids_are_read_strictly(client, login, rows, endpoint, name, title, form):
    login("manager")
    for bad in BAD_SELECTIONS:
        response = client.post(f"/admin/{endpoint}/bulk/{name}/?url=/admin/{endpoint}/",
                               data={**form, "row_ids": bad, "idempotency_key": "bad-1"})
        if "\x00" in bad:  # refused before any view runs (request_guards)
            assert response.status_code == 400, (bad, response.status_code)
            continue
        assert response.status_code == 302, (bad, response.status_code)
        assert response.location.endswith(f"/admin/{endpoint}/")
        html = client.get(response.location).get_data(as_text=True)
        assert "is not a row ID" in html or "No rows were selected" in html, bad
        assert "refused" not in html  # nothing ran


def test_repeated_ids_run_once(client, login, rows):
    login("manager")
    first = rows["subscription"][0]
    done = client.post("/admin/subscription/bulk/cancel_subscriptions/", data={
        "row_ids": f"{first},{first}", "when": "period_end", "credits": "keep",
        "idempotency_key": "dup-1"}, follow_redirects=True)
    assert "1 cancelled." in done.get_data(as_text=True)


def test_all_matching_rows_are_named_so(client, login, rows):
    login("manager")
    page = client.post("/admin/subscription/action/", data={
        "action": "cancel_subscriptions", "rowid": [str(rows["subscription"][0])],
        "select_all_matching": "1", "url": "/admin/subscription/"})
    html = page.get_data(as_text=True)
    assert "Applies to all 2 subscriptions matching the list" in html
    assert 'name="all_matching" type="hidden" value="1"' in html


def test_an_invalid_form_is_shown_again_with_its_rows(client, login, rows):
    login("manager")
    ids = rows["contact"]
    page = client.post("/admin/contact/bulk/adjust_credits/?url=/admin/contact/", data={
        "row_ids": f"{ids[0]},{ids[1]}", "quantity": "", "reason": "",
        "idempotency_key": "adj-1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Adjust credits of 2 contacts" in html
    assert "Applies to 2 selected contacts" in html and "This field is required." in html


def test_unknown_flow_is_not_found(client, login, rows):
    login("manager")
    assert client.post("/admin/subscription/bulk/delete_everything/",
                       data={"row_ids": "1"}).status_code == 404
    # A flow belongs to its list: Adjust credits is not a subscriptions flow.
    assert client.post("/admin/subscription/bulk/adjust_credits/",
                       data={"row_ids": "1"}).status_code == 404


def test_roles_that_may_not_act_are_refused(client, login, rows):
    login("viewer")
    ids = rows["subscription"]
    response = client.post("/admin/subscription/bulk/cancel_subscriptions/", data={
        "row_ids": f"{ids[0]},{ids[1]}", "when": "period_end", "credits": "keep",
        "idempotency_key": "v-1"}, follow_redirects=True)
    assert "Your role (Viewer) may not cancel subscriptions." in response.get_data(as_text=True)
    assert not any(s.cancel_at_period_end for s in db.session.query(Subscription))


def test_a_row_that_vanished_is_reported(client, login, rows):
    login("manager")
    first = rows["subscription"][0]
    done = client.post("/admin/subscription/bulk/cancel_subscriptions/", data={
        "row_ids": f"{first},987654", "when": "period_end", "credits": "keep",
        "idempotency_key": "gone-1"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "1 cancelled, 1 refused: #987654: Subscription #987654 no longer exists" in html
