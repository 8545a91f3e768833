"""Every action page opens through one helper (``views/action_pages.py``): a junk, empty or
vanished id is a clear message and a redirect, never a 500, on every action endpoint."""

from __future__ import annotations

import pytest

from admin_app.extensions import db
from admin_app.models import Subscription
from tests.factories import make_plan, make_subscription

# Every action endpoint: (method, path, the query argument carrying the record's id, the rest
# of the query).
ACTION_ENDPOINTS = [
    ("GET", "/admin/subscription/cancel/", "id", ""),
    ("GET", "/admin/subscription/undo-cancel/", "id", ""),
    ("GET", "/admin/subscription/upgrade/", "id", ""),
    ("GET", "/admin/subscription/downgrade/", "id", ""),
    ("GET", "/admin/subscription/cancel-scheduled-change/", "id", ""),
    ("GET", "/admin/subscription/apply-promo/", "id", ""),
    ("GET", "/admin/appointment/no-show-fee/", "id", ""),
    ("GET", "/admin/appointment/waive-fee/", "id", ""),
    ("GET", "/admin/appointment/attend/", "id", ""),
    ("GET", "/admin/appointment/cancel/", "id", ""),
    ("GET", "/admin/appointment/charge/", "id", ""),
    ("GET", "/admin/payment/refund/", "id", ""),
    ("GET", "/admin/payment/retry/", "id", ""),
    ("GET", "/admin/payment/check-with-processor/", "id", ""),
    ("GET", "/admin/payment/retry-failed/", "contact_id", ""),
    ("GET", "/admin/refund/check-with-processor/", "id", ""),
    ("GET", "/admin/payment_method/make-default/", "id", ""),
    ("GET", "/admin/payment_method/remove/", "id", ""),
    ("GET", "/admin/payment_method/link/", "contact_id", ""),
    ("GET", "/admin/contact/charge/", "id", ""),
    ("GET", "/admin/contact/subscribe/", "id", ""),
    ("GET", "/admin/contact/payment-methods/add/", "id", ""),
    ("GET", "/admin/contact/credits/adjust/", "id", ""),
    ("GET", "/admin/contact/account-credit/refund/", "id", ""),
    ("GET", "/admin/contact/account-credit/adjust/", "id", ""),
    ("GET", "/admin/plan/link/", "id", ""),
    ("POST", "/admin/plan/link/invite/", "id", ""),
    ("POST", "/admin/plan/link/regenerate/", "id", ""),
    ("POST", "/admin/plan/link/switch/", "id", ""),
    ("POST", "/admin/document/issue/", "id", ""),
    ("POST", "/admin/document/send/", "id", "&channel=email"),
    ("GET", "/admin/document/pdf/", "id", ""),
    ("GET", "/admin/document/void/", "id", ""),
    ("POST", "/admin/document/charge-invoice/", "id", "&method=cash"),
    ("GET", "/admin/outbox/attachment/", "id", "&n=0"),
    ("POST", "/admin/bulk_job/cancel/", "id", ""),
    ("GET", "/admin/bulk_job/progress/", "id", ""),
    ("GET", "/admin/bulk_job/results.csv", "id", ""),
]
JUNK_IDS = ["abc", "1,2", "1;1", "", "-1", "0", "1.0", "%2B1", "%201", "1e3", "0x1",
            "99999999999999999999", "2147483648", "%00", "1%00", "%EF%BC%91", "%E2%80%AE1"]
# Flask-Admin's own record pages read ids the same way.
RECORD_PAGES = ["/admin/subscription/details/", "/admin/subscription/edit/",
                "/admin/payment/details/", "/admin/contact/edit/", "/admin/document/details/",
                "/admin/stripe_event/details/"]


def _call(client, method, url):
    if method == "POST":
        return client.post(url, data={"idempotency_key": "junk-1"})
    return client.get(url)


@pytest.mark.parametrize(("method", "path", "arg", "rest"), ACTION_ENDPOINTS,
                         ids=[path for _, path, _, _ in ACTION_ENDPOINTS])
def test_junk_ids_are_a_message_and_a_redirect(client, login, records, method, path, arg,
                                               rest):
    login("owner")
    for junk in JUNK_IDS:
        response = _call(client, method, f"{path}?{arg}={junk}{rest}")
        if "%00" in junk:  # refused before any view runs (request_guards)
            assert response.status_code == 400, (path, junk, response.status_code)
            continue
        assert response.status_code == 302, (path, junk, response.status_code)
        page = client.get(response.location).get_data(as_text=True)
        assert any(said in page for said in ("There is no", "no longer exists", "was chosen")), \
            (path, junk)
    missing = _call(client, method, f"{path}?{arg}=987654{rest}")
    assert missing.status_code == 302
    gone = client.get(missing.location).get_data(as_text=True)
    assert "no longer exists" in gone or "was already removed" in gone
    without = _call(client, method, f"{path}?rest=1{rest}")
    assert without.status_code == 302
    assert "was chosen" in client.get(without.location).get_data(as_text=True)


def test_every_action_endpoint_is_covered(app):
    """An action page added later is added to the list above, so it is checked too."""
    builtin = {"index_view", "create_view", "edit_view", "details_view", "delete_view",
               "action_view", "export", "ajax_lookup", "ajax_update", "bulk_view", "index",
               "suggest", "static",
               "zip_view",  # a zip made on the worker, by its random name: test_document_pages
               "csv"}  # a report's tables as CSV (read only): tests/reports
    exposed = {rule.rule for rule in app.url_map.iter_rules()
               if rule.rule.startswith("/admin/") and rule.endpoint.split(".")[-1] not in builtin
               and rule.endpoint.split(".")[0] not in ("auth", "admin", "quick_search",
                                                       "cashier_settings")}
    assert exposed == {path for _, path, _, _ in ACTION_ENDPOINTS}


@pytest.mark.parametrize("path", RECORD_PAGES)
def test_record_pages_read_ids_strictly(client, login, records, path):
    login("owner")
    for junk in JUNK_IDS:
        response = client.get(f"{path}?id={junk}")
        expected = (400,) if "%00" in junk else (302, 404)
        assert response.status_code in expected, (path, junk, response.status_code)


def test_contact_card_with_a_junk_id_is_not_found(client, login, records):
    login("owner")
    for junk in JUNK_IDS:
        assert client.get(f"/admin/contact/details/?id={junk}").status_code == \
            (400 if "%00" in junk else 404), junk


def test_missing_record_goes_back_where_the_admin_came_from(client, login, records):
    login("cashier")
    response = client.get("/admin/subscription/cancel/?id=987654&url=/admin/contact/")
    assert response.status_code == 302 and response.location.endswith("/admin/contact/")


def test_role_refused_before_the_page_opens(client, login, records):
    login("viewer")
    sub = records["subscription"]
    response = client.get(f"/admin/subscription/cancel/?id={sub.id}")
    assert response.status_code == 302
    assert "tab=subscriptions" in response.location  # back to the contact card
    page = client.get(response.location).get_data(as_text=True)
    assert "Your role (Viewer) may not cancel subscriptions." in page


def test_refusal_shows_the_page_again_with_a_fresh_key(client, login, records):
    login("cashier")
    sub = records["subscription"]
    sub.cancel_at_period_end = False
    db.session.commit()
    response = client.post(f"/admin/subscription/undo-cancel/?id={sub.id}",
                           data={"idempotency_key": "undo-1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "nothing to undo" in html
    assert 'value="undo-1"' not in html and 'name="idempotency_key"' in html


def test_notice_codes_are_information_and_go_back(client, login, app):
    login("cashier")
    sub = make_subscription(plan=make_plan(), cancel_at_period_end=True)
    db.session.commit()
    response = client.post(f"/admin/subscription/cancel/?id={sub.id}&url=/admin/subscription/",
                           data={"when": "period_end", "credits": "keep",
                                 "idempotency_key": "c-1"})
    assert response.status_code == 302 and response.location.endswith("/admin/subscription/")
    page = client.get(response.location).get_data(as_text=True)
    assert "already cancels at period end" in page and "alert-info" in page
    assert db.session.get(Subscription, sub.id).cancel_at_period_end


def test_a_replayed_submission_is_information(client, login, app):
    login("cashier")
    sub = make_subscription(plan=make_plan(), cancel_at_period_end=True)
    db.session.commit()
    form = {"idempotency_key": "u-1"}
    first = client.post(f"/admin/subscription/undo-cancel/?id={sub.id}", data=form,
                        follow_redirects=True)
    assert "renews on" in first.get_data(as_text=True)
    again = client.post(f"/admin/subscription/undo-cancel/?id={sub.id}", data=form,
                        follow_redirects=True)
    assert "Already done, not repeated" in again.get_data(as_text=True)
