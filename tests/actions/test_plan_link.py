"""Workflow 7: a plan's subscription link, its on/off switch, and invitations."""

from __future__ import annotations

import pytest

from admin_app.actions.regenerate_plan_link import regenerate_plan_link
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.send_plan_invitation import send_plan_invitation
from admin_app.actions.set_plan_link_enabled import set_plan_link_enabled
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import DeliveryChannel, MessageStatus, OutboundMessage
from tests.actions.conftest import audit_entries
from tests.factories import make_admin, make_contact, make_plan


@pytest.fixture
def plan(app):
    plan = make_plan(name="Monthly Physio")
    db.session.commit()
    return plan


@pytest.fixture
def manager(app):
    return make_admin(role="manager")


def _messages() -> list[OutboundMessage]:
    return db.session.query(OutboundMessage).order_by(OutboundMessage.id).all()


# --- regenerate ------------------------------------------------------------------------------

def test_regenerate_gives_a_new_token_and_kills_the_old_link(plan, owner, key, client):
    old = plan.public_token
    assert client.get(f"/join/{old}").status_code == 200
    regenerate_plan_link(plan, actor=owner, idempotency_key=key())
    assert plan.public_token != old and len(plan.public_token) >= 20
    assert client.get(f"/join/{old}").status_code == 404
    page = client.get(f"/join/{plan.public_token}")
    assert page.status_code == 200 and b"Monthly Physio" in page.data
    (entry,) = audit_entries("regenerate_plan_link")
    assert entry.actor_id == owner.id and entry.before["token_ending"] == f"…{old[-4:]}"
    assert old not in str(entry.before) + str(entry.after) + entry.summary


def test_regenerate_double_submit_runs_once(plan, manager, key):
    same = key()
    token = regenerate_plan_link(plan, actor=manager, idempotency_key=same).record.public_token
    with pytest.raises(AlreadyDone):
        regenerate_plan_link(plan, actor=manager, idempotency_key=same)
    assert plan.public_token == token and len(audit_entries("regenerate_plan_link")) == 1


@pytest.mark.parametrize("role", ["cashier", "viewer"])
def test_only_managers_regenerate_or_switch(plan, key, role):
    actor, token = make_admin(role=role), plan.public_token
    with pytest.raises(ActionError) as refused:
        regenerate_plan_link(plan, actor=actor, idempotency_key=key())
    assert refused.value.code == "not_permitted"
    with pytest.raises(ActionError) as refused:
        set_plan_link_enabled(plan, is_enabled=False, actor=actor, idempotency_key=key())
    assert refused.value.code == "not_permitted"
    db.session.refresh(plan)
    assert plan.public_token == token and plan.is_public_link_enabled


# --- on / off --------------------------------------------------------------------------------

def test_switch_off_and_on(plan, manager, key, client):
    set_plan_link_enabled(plan, is_enabled=False, actor=manager, idempotency_key=key())
    assert not plan.is_public_link_enabled
    assert client.get(f"/join/{plan.public_token}").status_code == 404
    set_plan_link_enabled(plan, is_enabled=True, actor=manager, idempotency_key=key())
    assert client.get(f"/join/{plan.public_token}").status_code == 200
    entries = audit_entries("set_plan_link_enabled")
    assert [e.after["is_public_link_enabled"] for e in entries] == [False, True]


def test_switch_to_the_same_state_changes_nothing(plan, manager, key):
    with pytest.raises(ActionError) as refused:
        set_plan_link_enabled(plan, is_enabled=True, actor=manager, idempotency_key=key())
    assert refused.value.code == "link_unchanged" and "already on" in refused.value.message
    assert audit_entries("set_plan_link_enabled") == []


def test_switch_double_submit_runs_once(plan, manager, key):
    same = key()
    set_plan_link_enabled(plan, is_enabled=False, actor=manager, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        set_plan_link_enabled(plan, is_enabled=False, actor=manager, idempotency_key=same)
    assert len(audit_entries("set_plan_link_enabled")) == 1


def test_public_page_unknown_and_inactive(plan, client):
    assert client.get("/join/no-such-token").status_code == 404
    plan.is_active = False
    db.session.commit()
    assert client.get(f"/join/{plan.public_token}").status_code == 404


# --- invitations -----------------------------------------------------------------------------

def test_invitation_by_email_and_sms_is_queued_with_a_personal_link(plan, cashier, key):
    contact = make_contact(first_name="Grace", email="grace@example.com", phone="+15550001")
    db.session.commit()
    by_email = send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL,
                                    actor=cashier, idempotency_key=key()).record
    by_sms = send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.SMS,
                                  actor=cashier, idempotency_key=key()).record
    assert [m.recipient for m in _messages()] == ["grace@example.com", "+15550001"]
    assert by_email.token != by_sms.token
    for invitation in (by_email, by_sms):
        message = db.session.get(OutboundMessage, invitation.outbound_message_id)
        assert message.status is MessageStatus.QUEUED and message.document_id is None
        assert message.body.endswith(f"/join/invite/{invitation.token}")
        assert plan.public_token not in message.body and "Monthly Physio" in message.subject
        assert invitation.contact_id == contact.id and invitation.expires_at is None
    entries = audit_entries("send_plan_invitation")
    assert [e.after["channel"] for e in entries] == ["email", "sms"]
    assert entries[0].after["outbound_message_id"] == by_email.outbound_message_id


def test_invitation_with_a_promo_and_an_expiry(plan, cashier, key):
    from datetime import timedelta

    from admin_app.clock import utcnow
    from tests.factories import make_promo

    contact = make_contact(email="ana@example.com")
    make_promo(code="VIP", percent_off=20)
    make_promo(code="GONE", is_active=False)
    db.session.commit()
    until = utcnow() + timedelta(days=7)
    invitation = send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL,
                                      promo_code="vip", expires_at=until, actor=cashier,
                                      idempotency_key=key()).record
    assert invitation.promo_code.code == "VIP" and invitation.expires_at == until
    body = db.session.get(OutboundMessage, invitation.outbound_message_id).body
    assert "Your promo code VIP (20% off, once) is applied" in body and "works until" in body
    for kw, code in [({"promo_code": "GONE"}, "promo_inactive"),
                     ({"expires_at": utcnow() - timedelta(days=1)}, "expiry_in_past")]:
        with pytest.raises(ActionError) as refused:
            send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL,
                                 actor=cashier, idempotency_key=key(), **kw)
        assert refused.value.code == code
    assert len(_messages()) == 1


@pytest.mark.parametrize(("channel", "missing", "code"), [
    (DeliveryChannel.EMAIL, {"email": None}, "no_email"),
    (DeliveryChannel.SMS, {"phone": None}, "no_phone"),
])
def test_invitation_needs_an_address(plan, cashier, key, channel, missing, code):
    contact = make_contact(**missing)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        send_plan_invitation(plan, contact=contact, channel=channel, actor=cashier,
                             idempotency_key=key())
    assert refused.value.code == code
    assert _messages() == [] and audit_entries("send_plan_invitation") == []


@pytest.mark.parametrize(("change", "code"), [({"is_public_link_enabled": False}, "link_disabled"),
                                              ({"is_active": False}, "plan_inactive")])
def test_no_invitation_for_a_dead_link(plan, cashier, key, change, code):
    for name, value in change.items():
        setattr(plan, name, value)
    contact = make_contact()
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL,
                             actor=cashier, idempotency_key=key())
    assert refused.value.code == code and _messages() == []


def test_invitation_double_submit_and_viewer(plan, cashier, viewer, key):
    contact = make_contact()
    db.session.commit()
    same = key()
    send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL, actor=cashier,
                         idempotency_key=same)
    with pytest.raises(AlreadyDone):
        send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL,
                             actor=cashier, idempotency_key=same)
    with pytest.raises(ActionError) as refused:
        send_plan_invitation(plan, contact=contact, channel=DeliveryChannel.EMAIL,
                             actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted" and len(_messages()) == 1


# --- the admin pages -------------------------------------------------------------------------

def test_link_page_from_the_menu_and_details(app, client, login, plan):
    app.config["PUBLIC_BASE_URL"] = "https://billing.clinic.example"
    login("manager")
    listing = client.get("/admin/plan/")
    assert f"/admin/plan/link/?id={plan.id}".encode() in listing.data
    details = client.get(f"/admin/plan/details/?id={plan.id}")
    assert b'id="plan-link-tab"' in details.data
    page = client.get(f"/admin/plan/link/?id={plan.id}")
    assert page.status_code == 200
    assert f"https://billing.clinic.example/join/{plan.public_token}".encode() in page.data
    assert b"copy-plan-link" in page.data and b"Regenerate link" in page.data
    assert b"Send invitation" in page.data


def test_regenerate_and_switch_through_the_page(client, login, plan):
    login("owner")
    old = plan.public_token
    done = client.post(f"/admin/plan/link/regenerate/?id={plan.id}",
                       data={"idempotency_key": "r-1"}, follow_redirects=True)
    assert b"old link no longer works" in done.data
    db.session.refresh(plan)
    assert plan.public_token != old
    again = client.post(f"/admin/plan/link/regenerate/?id={plan.id}",
                        data={"idempotency_key": "r-1"}, follow_redirects=True)
    assert b"Already done" in again.data
    off = client.post(f"/admin/plan/link/switch/?id={plan.id}",
                      data={"idempotency_key": "s-1", "is_enabled": "0"}, follow_redirects=True)
    assert b"is now off" in off.data and b"Link is off: turn on" in off.data
    same = client.post(f"/admin/plan/link/switch/?id={plan.id}",
                       data={"idempotency_key": "s-2", "is_enabled": "0"}, follow_redirects=True)
    assert b"already off" in same.data


def test_cashier_sees_the_link_but_not_the_switches(client, login, plan):
    login("cashier")
    page = client.get(f"/admin/plan/link/?id={plan.id}")
    assert b"Regenerate link" not in page.data and b"Send invitation" in page.data
    refused = client.post(f"/admin/plan/link/regenerate/?id={plan.id}",
                          data={"idempotency_key": "r-1"}, follow_redirects=True)
    assert b"may not regenerate" in refused.data


def test_send_invitation_through_the_page(client, login, plan):
    contact = make_contact(first_name="Zelda", last_name="Fitz", email="zelda@example.com")
    db.session.commit()
    login("cashier")
    lookup = client.get("/admin/plan/ajax/lookup/?name=invite_contact&query=zeld")
    assert lookup.status_code == 200 and [contact.id, "Zelda Fitz"] in lookup.json
    form = {"contact": str(contact.id), "channel": "email", "idempotency_key": "i-1"}
    sent = client.post(f"/admin/plan/link/invite/?id={plan.id}", data=form)
    assert sent.status_code == 302
    again = client.post(f"/admin/plan/link/invite/?id={plan.id}", data=form,
                        follow_redirects=True)
    assert b"Already done" in again.data and len(_messages()) == 1
    no_phone = make_contact(phone=None)
    db.session.commit()
    refused = client.post(f"/admin/plan/link/invite/?id={plan.id}", data={
        "contact": str(no_phone.id), "channel": "sms", "idempotency_key": "i-2"})
    assert refused.status_code == 200
    assert b"has no phone number" in refused.data


def test_invitation_form_needs_a_contact(client, login, plan):
    login("cashier")
    for contact in ("", "999999", "abc"):
        page = client.post(f"/admin/plan/link/invite/?id={plan.id}", data={
            "contact": contact, "channel": "email", "idempotency_key": f"i-{contact}"})
        assert page.status_code == 200 and b"Send invitation" in page.data
    assert _messages() == []
