"""Workflow 2: cancel a subscription (now or at period end), undo, bulk cancel."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from admin_app.actions.adjust_credits import credit_balance
from admin_app.actions.cancel_subscription import cancel_subscription
from admin_app.actions.downgrade_subscription import downgrade_subscription
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.undo_cancellation import undo_cancellation
from admin_app.actions.upgrade_subscription import upgrade_subscription
from admin_app.billing.plan_change import quote_plan_change, sign_review
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    CreditReason,
    Document,
    DocumentType,
    PaymentStatus,
    Refund,
    RefundStatus,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.actions.subscription_setup import (
    HALF_WAY,
    PERIOD_END,
    clock_fixture,  # noqa: F401 - the ``clock`` fixture
    subscriber,
)
from tests.factories import make_credit, make_plan, make_subscription

# The subscriber's card and first period are charged at the processor (subscription_setup).
pytestmark = pytest.mark.processor


def _refresh(record):
    db.session.refresh(record)
    return record


def test_cancel_at_period_end_then_undo(app, clock, cashier, key):
    member = subscriber()
    clock(HALF_WAY)
    sub = cancel_subscription(member.subscription, at_period_end=True, actor=cashier,
                              idempotency_key=key()).record
    assert sub.status is SubscriptionStatus.ACTIVE and sub.cancel_at_period_end
    assert sub.canceled_at is None
    assert credit_balance(member.contact.id, member.service.id) == 4
    (entry,) = audit_entries("cancel_subscription")
    assert entry.before["cancel_at_period_end"] is False and entry.after["cancel_at_period_end"]
    assert entry.actor_id == cashier.id
    with pytest.raises(ActionError) as again:
        cancel_subscription(sub, at_period_end=True, actor=cashier, idempotency_key=key())
    assert again.value.code == "cancellation_already_scheduled"

    undone = undo_cancellation(sub, actor=cashier, idempotency_key=key()).record
    assert not undone.cancel_at_period_end and undone.status is SubscriptionStatus.ACTIVE
    assert len(audit_entries("undo_cancellation")) == 1
    with pytest.raises(ActionError) as nothing:
        undo_cancellation(sub, actor=cashier, idempotency_key=key())
    assert nothing.value.code == "nothing_to_undo"


def test_undo_is_refused_once_the_period_has_ended(app, clock, owner, key):
    member = subscriber()
    cancel_subscription(member.subscription, at_period_end=True, actor=owner,
                        idempotency_key=key())
    clock(PERIOD_END + timedelta(seconds=1))
    with pytest.raises(ActionError) as late:
        undo_cancellation(member.subscription, actor=owner, idempotency_key=key())
    assert late.value.code == "nothing_to_undo"
    assert _refresh(member.subscription).cancel_at_period_end


def test_cancel_now_removes_credits_and_refunds_unused_time(app, clock, cashier, key, processor):
    member = subscriber(price=12000, credits=4)
    contact, service, sub = member.contact, member.service, member.subscription
    make_credit(contact=contact, service=service, quantity=-1, reason=CreditReason.BOOKING,
                subscription=sub)
    make_credit(contact=contact, service=service, quantity=2, reason=CreditReason.MANUAL_ADD)
    db.session.commit()
    clock(HALF_WAY)
    cancel_subscription(sub, at_period_end=False, credits="remove", refund_unused=True,
                        actor=cashier, idempotency_key=key())
    sub = _refresh(sub)
    assert sub.status is SubscriptionStatus.CANCELED and sub.canceled_at == HALF_WAY
    # the period's 4 less the one booked are removed; the manual 2 stay
    assert credit_balance(contact.id, service.id) == 2
    (refund,) = db.session.query(Refund).all()
    assert refund.amount_minor == 6000 and refund.status is RefundStatus.SUCCEEDED
    payment = _refresh(member.payment)
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert payment.amount_refunded_minor == 6000
    assert processor.charge(payment.gateway_id).refunded_minor == 6000
    (note,) = db.session.query(Document).filter_by(doc_type=DocumentType.CREDIT_NOTE).all()
    assert note.refund_id == refund.id and note.total_minor == 6000
    (entry,) = audit_entries("cancel_subscription")
    assert entry.after["status"] == "canceled" and entry.after["refund_minor"] == 6000
    assert entry.after["credits_removed"] == {str(service.id): -3}


def test_cancel_now_keeping_credits_and_money(app, clock, owner, key):
    member = subscriber()
    sub = member.subscription
    sub.scheduled_plan = make_plan()
    db.session.commit()
    cancel_subscription(sub, at_period_end=False, credits="keep", actor=owner,
                        idempotency_key=key())
    sub = _refresh(sub)
    assert sub.status is SubscriptionStatus.CANCELED and sub.scheduled_plan_id is None
    assert credit_balance(member.contact.id, member.service.id) == 4
    assert db.session.query(Refund).count() == 0


def test_already_cancelled_is_a_clear_no_op(app, clock, owner, key):
    sub = make_subscription(status=SubscriptionStatus.CANCELED)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        cancel_subscription(sub, at_period_end=False, actor=owner, idempotency_key=key())
    assert refused.value.code == "already_cancelled"
    assert "already cancelled" in refused.value.message
    assert audit_entries("cancel_subscription") == []


@pytest.mark.parametrize(("options", "code"), [
    ({"at_period_end": False, "credits": "burn"}, "invalid_option"),
    ({"at_period_end": True, "credits": "remove"}, "option_needs_cancel_now"),
    ({"at_period_end": True, "refund_unused": True}, "option_needs_cancel_now"),
])
def test_option_refusals_change_nothing(app, clock, owner, key, options, code):
    member = subscriber()
    with pytest.raises(ActionError) as refused:
        cancel_subscription(member.subscription, actor=owner, idempotency_key=key(), **options)
    assert refused.value.code == code
    sub = _refresh(member.subscription)
    assert sub.status is SubscriptionStatus.ACTIVE and not sub.cancel_at_period_end
    assert audit_entries("cancel_subscription") == []


def test_refund_needs_a_period_payment(app, clock, owner, key):
    member = subscriber(paid=False)
    with pytest.raises(ActionError) as refused:
        cancel_subscription(member.subscription, at_period_end=False, refund_unused=True,
                            actor=owner, idempotency_key=key())
    assert refused.value.code == "no_period_payment"
    assert _refresh(member.subscription).status is SubscriptionStatus.ACTIVE


@pytest.mark.parametrize("failure", ["gateway_unavailable", "gateway_refused"])
def test_processor_failure_keeps_the_failed_refund_and_cancels_nothing(app, clock, owner, key,
                                                                       failure, processor):
    member = subscriber()
    clock(HALF_WAY)
    if failure == "gateway_unavailable":
        processor.set_down(True)
    else:
        member.payment.gateway_id = "ch_unknown"
        db.session.commit()
    try:
        with pytest.raises(ActionError) as refused:
            cancel_subscription(member.subscription, at_period_end=False, credits="remove",
                                refund_unused=True, actor=owner, idempotency_key=key())
    finally:
        processor.set_down(False)
    assert refused.value.code == failure
    (refund,) = db.session.query(Refund).all()
    assert refund.status is (RefundStatus.PENDING if failure == "gateway_unavailable"
                             else RefundStatus.FAILED)
    assert _refresh(member.subscription).status is SubscriptionStatus.ACTIVE
    assert _refresh(member.payment).amount_refunded_minor == 0
    assert credit_balance(member.contact.id, member.service.id) == 4
    (entry,) = audit_entries("cancel_subscription")
    assert entry.after["status"] == entry.before["status"] == "active"
    assert "was not cancelled" in refused.value.message


def test_double_submit_cancels_and_refunds_once(app, clock, owner, key):
    member = subscriber()
    clock(HALF_WAY)
    same = key()
    cancel_subscription(member.subscription, at_period_end=False, refund_unused=True,
                        actor=owner, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        cancel_subscription(member.subscription, at_period_end=False, refund_unused=True,
                            actor=owner, idempotency_key=same)
    assert db.session.query(Refund).count() == 1
    assert len(audit_entries("cancel_subscription")) == 1


def test_viewer_may_not_cancel_nor_undo(app, clock, viewer, owner, key):
    member = subscriber()
    with pytest.raises(ActionError) as refused:
        cancel_subscription(member.subscription, at_period_end=True, actor=viewer,
                            idempotency_key=key())
    assert refused.value.code == "not_permitted"
    cancel_subscription(member.subscription, at_period_end=True, actor=owner,
                        idempotency_key=key())
    with pytest.raises(ActionError) as undo:
        undo_cancellation(member.subscription, actor=viewer, idempotency_key=key())
    assert undo.value.code == "not_permitted"
    assert _refresh(member.subscription).cancel_at_period_end


def test_refund_after_an_upgrade_covers_both_period_payments(app, clock, owner, key):
    member = subscriber(price=12000)
    gold = make_plan(price_minor=20000)
    db.session.commit()
    clock(HALF_WAY)
    upgrade_subscription(member.subscription, new_plan=gold,
                         review_token=sign_review(quote_plan_change(member.subscription, gold)),
                         actor=owner, idempotency_key=key())  # charges 40.00 for the rest
    clock(HALF_WAY + timedelta(days=7, hours=12))  # a quarter of the period left
    cancel_subscription(member.subscription, at_period_end=False, refund_unused=True,
                        actor=owner, idempotency_key=key())
    refunds = db.session.query(Refund).order_by(Refund.id).all()
    # 120.00 × 1/4 of the period, and 40.00 × the unused half of the half it paid for
    assert [r.amount_minor for r in refunds] == [3000, 2000]  # = 200.00 × 1/4


def test_refund_after_a_downgrade_refund_never_refunds_the_same_time_twice(app, clock, owner,
                                                                          key):
    member = subscriber(price=20000)
    basic = make_plan(price_minor=12000)
    db.session.commit()
    clock(HALF_WAY)
    downgrade_subscription(member.subscription, new_plan=basic, when="now", credit_as="refund",
                           review_token=sign_review(quote_plan_change(member.subscription,
                                                                      basic)),
                           actor=owner, idempotency_key=key())  # refunds 40.00
    cancel_subscription(member.subscription, at_period_end=False, refund_unused=True,
                        actor=owner, idempotency_key=key())
    # half of 200.00 is unused, 40.00 of it was refunded already
    assert [r.amount_minor for r in db.session.query(Refund).order_by(Refund.id)] == [4000, 6000]
    assert _refresh(member.payment).amount_refunded_minor == 10000


# --- through the admin: contact card → Subscriptions tab → ⋯ → Cancel ----------------------

def test_menu_offers_cancel_to_staff_only(client, login, clock):
    member = subscriber()
    card_url = f"/admin/contact/details/?id={member.contact.id}&tab=subscriptions"
    login("viewer")
    assert b"/admin/subscription/cancel/" not in client.get(card_url).data
    client.post("/admin/logout")
    login("cashier")
    page = client.get(card_url).data
    assert b"/admin/subscription/cancel/?id=" in page
    assert b"Apply Promo" in page and b"Undo cancellation" not in page
    assert b"Upgrade" not in page and b"Downgrade" not in page  # its plan is the only one


def test_confirm_page_shows_the_effect_then_cancels(client, login, clock):
    member = subscriber()
    clock(HALF_WAY)
    login("cashier")
    back = f"/admin/contact/details/?id={member.contact.id}&tab=subscriptions"
    url = f"/admin/subscription/cancel/?id={member.subscription.id}&url={quote(back)}"
    page = client.get(url).get_data(as_text=True)
    assert "Status becomes Cancelled today (16 Apr 2025)" in page
    assert "Stays Active until 01 May 2025" in page
    assert f"{member.service}: 4" in page
    assert f"$60.00 of payment #{member.payment.id}" in page
    form = {"when": "now", "credits": "remove", "refund_unused": "y", "idempotency_key": "c-1"}
    done = client.post(url, data=form)
    assert done.status_code == 302 and done.location.endswith(back)
    again = client.post(url, data=form, follow_redirects=True)
    assert b"already cancelled" in again.data and again.status_code == 200
    assert b"alert-info" in again.data or b"alert alert-info" in again.data
    sub = _refresh(member.subscription)
    assert sub.status is SubscriptionStatus.CANCELED
    assert credit_balance(member.contact.id, member.service.id) == 0
    assert db.session.query(Refund).one().amount_minor == 6000


def test_already_cancelled_shows_information_not_an_error(client, login, clock):
    sub = make_subscription(status=SubscriptionStatus.CANCELED)
    db.session.commit()
    login("owner")
    response = client.get(f"/admin/subscription/cancel/?id={sub.id}", follow_redirects=True)
    assert response.status_code == 200
    assert b"is already cancelled" in response.data


def test_viewer_post_is_refused_and_nothing_changes(client, login, clock):
    member = subscriber()
    login("viewer")
    response = client.post(f"/admin/subscription/cancel/?id={member.subscription.id}",
                           data={"when": "now", "credits": "keep", "idempotency_key": "v-1"},
                           follow_redirects=True)
    assert b"may not cancel subscriptions" in response.data
    assert _refresh(member.subscription).status is SubscriptionStatus.ACTIVE


def test_undo_through_the_menu(client, login, clock, owner, key):
    member = subscriber()
    cancel_subscription(member.subscription, at_period_end=True, actor=owner,
                        idempotency_key=key())
    login("manager")
    card = client.get(f"/admin/contact/details/?id={member.contact.id}&tab=subscriptions")
    assert b"Undo cancellation" in card.data
    url = f"/admin/subscription/undo-cancel/?id={member.subscription.id}"
    assert b"renew as usual" in client.get(url).data
    done = client.post(url, data={"idempotency_key": "u-1"}, follow_redirects=True)
    assert b"undone" in done.data
    assert not _refresh(member.subscription).cancel_at_period_end


def test_bulk_cancel_reports_per_row(client, login, clock):
    live = subscriber().subscription
    ended = make_subscription(status=SubscriptionStatus.CANCELED)
    db.session.commit()
    login("manager")
    page = client.post("/admin/subscription/action/", data={
        "action": "cancel_subscriptions", "rowid": [str(live.id), str(ended.id)],
        "url": "/admin/subscription/"})
    assert page.status_code == 200 and b"Cancel 2 subscriptions" in page.data
    done = client.post("/admin/subscription/bulk/cancel_subscriptions/", data={
        "row_ids": f"{live.id},{ended.id}", "when": "period_end", "credits": "keep",
        "idempotency_key": "bulk-1"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "1 cancelled, 1 refused" in text and f"#{ended.id}: Subscription" in text
    assert "is already cancelled" in text
    assert _refresh(live).cancel_at_period_end
