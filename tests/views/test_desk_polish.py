"""The desk's polish through the pages: ⋯ menus offer only what works, a save without a change
writes no audit edit, CSV times in the clinic's zone with the zone in the header, pickers and
search boxes in words, promo codes marked with why, the cancelled subscription's facts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from admin_app.extensions import db
from admin_app.models import (
    AuditEntry,
    CashierSettings,
    Contact,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    SubscriptionStatus,
)
from tests.factories import (
    make_admin,
    make_appointment,
    make_contact,
    make_payment,
    make_plan,
    make_promo,
    make_subscription,
)


def _edits(target_type: str) -> list[AuditEntry]:
    return db.session.query(AuditEntry).filter_by(action="edit", target_type=target_type).all()


def test_a_save_without_a_change_writes_no_audit_edit(client, login, app):
    contact = make_contact(first_name="Nora", last_name="Reed", email="nora@example.com",
                           notes="Line one\nLine two")
    db.session.commit()
    login("manager")
    form = {"first_name": "Nora", "last_name": "Reed", "email": "nora@example.com",
            "phone": contact.phone or "", "status": contact.status.value,
            "notes": "Line one\r\nLine two \r\n"}        # what a browser's textarea sends
    assert client.post(f"/admin/contact/edit/?id={contact.id}", data=form).status_code == 302
    assert [(e.before, e.after) for e in _edits("contact")] == []
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).notes == "Line one\nLine two"  # as stored
    client.post(f"/admin/contact/edit/?id={contact.id}", data={**form, "notes": "Line three"})
    (entry,) = _edits("contact")
    assert entry.before == {"notes": "Line one\nLine two"}
    assert entry.after == {"notes": "Line three"}


def test_an_appointment_saved_unchanged_keeps_its_seconds_and_no_audit(client, login, app):
    at = datetime(2026, 3, 1, 14, 0, 42, tzinfo=UTC)
    appointment = make_appointment(starts_at=at)
    db.session.commit()
    login("owner")
    page = client.get(f"/admin/appointment/edit/?id={appointment.id}").get_data(as_text=True)
    assert 'value="2026-03-01 14:00"' in page                  # minutes, as typed
    response = client.post(f"/admin/appointment/edit/?id={appointment.id}", data={
        "contact": str(appointment.contact_id), "service": str(appointment.service_id),
        "starts_at": "2026-03-01 14:00", "status": appointment.status.value, "notes": ""})
    assert response.status_code == 302
    assert _edits("appointment") == []


def _menu(client, contact_id: int) -> str:
    return client.get(f"/admin/contact/details/?id={contact_id}&tab=subscriptions").get_data(
        as_text=True)


def test_upgrade_and_downgrade_are_offered_only_where_a_plan_exists(client, login, app):
    cheap = make_plan(name="Light", price_minor=5000)
    middle = make_plan(name="Standard", price_minor=9000)
    top = make_plan(name="Premium", price_minor=15000)
    make_plan(name="Premium EUR", price_minor=25000, currency="EUR")  # other terms: not a move
    subs = {plan.name: make_subscription(plan=plan) for plan in (cheap, middle, top)}
    db.session.commit()
    login("cashier")
    for name, (upgrade, downgrade) in {"Light": (True, False), "Standard": (True, True),
                                       "Premium": (False, True)}.items():
        sub = subs[name]
        page = _menu(client, sub.contact_id)
        assert (f"/admin/subscription/upgrade/?id={sub.id}" in page) is upgrade, name
        assert (f"/admin/subscription/downgrade/?id={sub.id}" in page) is downgrade, name
    past_due = make_subscription(plan=middle, status=SubscriptionStatus.PAST_DUE)
    db.session.commit()
    page = _menu(client, past_due.contact_id)
    assert "/admin/subscription/upgrade/" not in page and "/admin/subscription/downgrade/" \
        not in page


def test_retry_is_not_offered_for_a_payment_a_retry_paid(client, login, app):
    contact = make_contact()
    failed = make_payment(contact=contact, amount_minor=4000, status=PaymentStatus.FAILED,
                          method=PaymentMethodKind.CARD, purpose=PaymentPurpose.CUSTOM_BILL,
                          paid_at=None, failure_reason="card_declined")
    db.session.commit()
    login("cashier")
    retry_url = f"/admin/payment/retry/?id={failed.id}"
    assert retry_url in client.get("/admin/payment/").get_data(as_text=True)
    make_payment(contact=contact, amount_minor=4000, retry_of_id=failed.id,
                 method=PaymentMethodKind.CARD, purpose=PaymentPurpose.CUSTOM_BILL)
    db.session.commit()
    assert retry_url not in client.get("/admin/payment/").get_data(as_text=True)


def test_csv_times_are_in_the_clinic_zone_and_the_header_says_which(client, login, app):
    CashierSettings.get().time_zone = "America/New_York"
    make_payment(amount_minor=1000, created_at=datetime(2026, 1, 15, 19, 30, tzinfo=UTC))
    db.session.commit()
    login("owner")
    body = client.get("/admin/payment/export/csv/").get_data(as_text=True)
    (row,) = list(csv.DictReader(io.StringIO(body)))
    assert row["Date (America/New_York)"] == "2026-01-15 14:30:00"
    assert "+00:00" not in body


def test_cancelled_subscription_says_when_by_whom_and_access_until(client, login, app):
    from admin_app.actions.cancel_subscription import cancel_subscription
    from admin_app.clinic_time import format_clinic

    sub = make_subscription(plan=make_plan(price_minor=9000))
    manager = make_admin(role="manager")
    db.session.commit()
    cancel_subscription(sub, at_period_end=False, actor=manager, idempotency_key="cancel-1")
    login("owner")
    page = client.get(f"/admin/subscription/cancel/?id={sub.id}").get_data(as_text=True)
    assert "is already cancelled" in page
    # cancelled at once: access ended then, not at the period's end
    assert f"by {manager.email}" in page and "Access ended" in page
    assert "Confirm cancellation" not in page
    details = client.get(f"/admin/subscription/details/?id={sub.id}").get_data(as_text=True)
    assert "access ended" in details and f"by {manager.email}" in details
    assert format_clinic(sub.current_period_end, "%Y-%m-%d %H:%M") not in details

    later = make_subscription(plan=make_plan(price_minor=9000))
    db.session.commit()
    cancel_subscription(later, at_period_end=True, actor=manager, idempotency_key="cancel-2")
    details = client.get(f"/admin/subscription/details/?id={later.id}").get_data(as_text=True)
    end = format_clinic(later.current_period_end, "%Y-%m-%d %H:%M")
    assert f"access until {end}" in details


def test_the_cancel_form_says_keep_the_subscription(client, login, app):
    sub = make_subscription(plan=make_plan(price_minor=9000))
    db.session.commit()
    login("cashier")
    page = client.get(f"/admin/subscription/cancel/?id={sub.id}").get_data(as_text=True)
    assert "Confirm cancellation" in page and ">Keep the subscription</a>" in page


def test_promo_choices_are_marked_with_the_rule_they_break(client, login, app):
    plan = make_plan(name="Physio Monthly", price_minor=9000)
    other = make_plan(name="Yoga Monthly", price_minor=7000)
    sub = make_subscription(plan=plan)
    make_promo(code="GOOD10", percent_off=10)
    make_promo(code="GONE", percent_off=10, is_active=False)
    make_promo(code="YOGAONLY", percent_off=10, plans=[other])
    make_promo(code="EUROS", discount_type="amount", percent_off=None, amount_off_minor=500,
               currency="EUR")
    db.session.commit()
    login("cashier")
    page = client.get(f"/admin/subscription/apply-promo/?id={sub.id}").get_data(as_text=True)
    assert '<option value="GOOD10">GOOD10 · 10% off, once</option>' in page
    assert "GONE · 10% off, once — not usable: inactive" in page
    assert "not usable: not for Physio Monthly (only Yoga Monthly)" in page
    assert "not usable: in EUR, Physio Monthly is in USD" in page
    assert page.count("disabled") >= 3
    new = client.get("/admin/subscription/new/").get_data(as_text=True)
    assert ">No promo code</option>" in new and "__None</option>" not in new
    assert "YOGAONLY · 10% off, once · only for Yoga Monthly" in new   # plan chosen later
    assert 'data-placeholder="Choose a contact"' in new


def test_search_boxes_say_what_they_search_in_words(client, login, app):
    login("owner")
    for url, words in {"/admin/document/": "Number (INV-000012 or 12), contact, or amount "
                                           "(75.00)",
                       "/admin/payment/": "Contact's name, email, phone or processor ID",
                       "/admin/payment_method/": "Contact's name, email, phone, processor ID or "
                                                 "last 4 digits",
                       "/admin/contact/": "Name, email or phone"}.items():
        page = client.get(url).get_data(as_text=True)
        shown = words.replace("'", "&#39;")
        assert f'placeholder="{shown}"' in page, url
        assert "contact.email" not in page.split('name="search"')[1][:200]


def test_plan_names_link_to_the_plan_and_the_fee_payment_is_linked(client, login, records):
    login("owner")
    plan = records["plan"]
    page = client.get("/admin/plan/").get_data(as_text=True)
    assert f'<a href="/admin/plan/details/?id={plan.id}">{plan.name}</a>' in page
    appointment, payment = records["appointment"], records["payment"]
    appointment.no_show_fee_payment_id = payment.id
    db.session.commit()
    tab = client.get(f"/admin/contact/details/?id={records['contact'].id}&tab=appointments")
    assert f"/admin/payment/details/?id={payment.id}" in tab.get_data(as_text=True)


def test_a_blank_required_amount_is_a_form_error_not_a_500(client, login, records):
    login("owner")
    appointment = records["appointment"]
    response = client.post(f"/admin/appointment/no-show-fee/?id={appointment.id}",
                           data={"amount": " ", "confirm": "y", "idempotency_key": "blank-1"})
    assert response.status_code == 200
    assert "Enter an amount, e.g. 75.00." in response.get_data(as_text=True)


def test_refund_offers_taking_back_credits_only_when_the_payment_granted_some(client, login,
                                                                             records):
    from tests.factories import make_credit

    login("owner")
    payment = records["payment"]
    url = f"/admin/payment/refund/?id={payment.id}"
    assert "Also take back the credits" not in client.get(url).get_data(as_text=True)
    make_credit(contact=records["contact"], service=records["service"], quantity=4,
                payment_id=payment.id)
    db.session.commit()
    assert "Also take back the credits" in client.get(url).get_data(as_text=True)


def test_a_time_filter_typed_without_seconds_is_read_in_the_clinic_zone(client, login, app):
    CashierSettings.get().time_zone = "America/New_York"
    make_appointment(starts_at=datetime(2026, 11, 1, 14, 0, tzinfo=UTC))   # 09:00 EST
    make_appointment(starts_at=datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
    db.session.commit()
    login("owner")
    page = client.get("/admin/appointment/?flt1_time_equals=2026-11-01+09:00").get_data(
        as_text=True)
    assert "2026-11-01 09:00 EST" in page and "2026-11-02 09:00 EST" not in page
    between = client.get("/admin/appointment/?flt1_time_between="
                         "2026-10-31+00:00+to+2026-11-01+23:59").get_data(as_text=True)
    assert "2026-11-01 09:00 EST" in between and "2026-11-02 09:00 EST" not in between


def test_the_audit_log_says_actions_in_words_and_links_the_record(client, login, records):
    sub = records["subscription"]
    db.session.add(AuditEntry(action="cancel_subscription", target_type="subscription",
                              target_id=str(sub.id), summary="Cancelled by the billing cycle"))
    db.session.commit()
    login("owner")
    page = client.get("/admin/audit_entry/").get_data(as_text=True)
    assert "Cancel subscription" in page and "The panel" in page
    assert f'<a href="/admin/subscription/details/?id={sub.id}">#{sub.id}</a>' in page
