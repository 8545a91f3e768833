"""The Subscription Link page's figures (opened, started, paid, conversion) and personal
invitations (per invitation: state and figures), sent one by one or in bulk from Contacts."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import OutboundMessage, PlanInvitation
from tests.factories import make_contact, make_plan


def _form(**kw):
    return {"first_name": "Eva", "last_name": "Berg", "email": "eva@example.com",
            "number": "4242424242424242", "expiry": "12/31", "cvc": "123",
            "idempotency_key": kw.pop("key", "s-1"), **kw}


def test_the_link_page_counts_openings_sign_ups_and_invitations(app, client, login):
    plan = make_plan(name="Core Strength")
    eva = make_contact(first_name="Eva", last_name="Berg", email="eva@example.com")
    db.session.commit()
    login("cashier")
    sent = client.post(f"/admin/plan/link/invite/?id={plan.id}", data={
        "contact": str(eva.id), "channel": "email", "promo_code": "",
        "expires_on": "2099-01-31", "idempotency_key": "i-1"})
    assert sent.status_code == 302
    invitation = db.session.scalar(select(PlanInvitation))
    assert invitation.expires_at is not None and invitation.expires_at.year == 2099
    for _ in range(3):
        client.get(f"/join/{plan.public_token}")
    personal = client.get(f"/join/invite/{invitation.token}").get_data(as_text=True)
    assert 'value="Eva"' in personal and 'value="eva@example.com"' in personal
    assert "A personal invitation for Eva" in personal
    client.post(f"/join/{plan.public_token}", data=_form(number="4000000000000341",
                                                          email="x@example.com", key="s-0"))
    assert client.post(f"/join/invite/{invitation.token}", data=_form()).status_code == 302
    assert client.get(f"/join/invite/{invitation.token}").status_code == 410  # used
    html = client.get(f"/admin/plan/link/?id={plan.id}").get_data(as_text=True)
    for label, value in (("Opened", "4"), ("Sign-ups started", "2"), ("Paid", "1"),
                         ("Conversion (paid ÷ opened)", "25.0 %")):
        assert f"<th scope=\"row\">{label}</th><td>{value}</td>" in html, label
    assert 'id="plan-invitations"' in html and "Signed up" in html


def test_bulk_invitations_from_the_contacts_list(app, client, login):
    plan = make_plan(name="Mobility")
    with_email = make_contact(email="a@example.com")
    without = make_contact(email=None)
    db.session.commit()
    login("manager")
    page = client.post("/admin/contact/bulk/send_plan_invitations/?url=/admin/contact/", data={
        "row_ids": f"{with_email.id},{without.id}", "plan": str(plan.id), "channel": "email",
        "idempotency_key": "b-1"})
    assert page.status_code == 302
    (invitation,) = db.session.scalars(select(PlanInvitation))
    assert invitation.contact_id == with_email.id
    assert db.session.get(OutboundMessage, invitation.outbound_message_id).recipient == \
        "a@example.com"
