"""Workflow 6: issue a draft accounting document, then send it by Email or SMS."""

from __future__ import annotations

import re

import pytest

from admin_app.actions.issue_document import issue_draft_document
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.send_document import send_document
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    CashierSettings,
    DeliveryChannel,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    OutboundMessage,
)
from tests.actions.conftest import audit_entries
from tests.factories import make_contact, make_document


@pytest.fixture
def draft(app):
    doc = make_document(contact=make_contact(email="ada@example.com", phone="+15550100"))
    db.session.commit()
    return doc


def _messages() -> list[OutboundMessage]:
    return db.session.query(OutboundMessage).order_by(OutboundMessage.id).all()


def _auto_send(channel=DeliveryChannel.EMAIL, **kinds):
    settings = CashierSettings.get()
    settings.auto_send_receipts, settings.auto_send_channel = True, channel
    for name, value in kinds.items():
        setattr(settings, name, value)
    db.session.commit()


# --- issue -----------------------------------------------------------------------------------

def test_issue_numbers_and_freezes_the_draft(draft, cashier, key):
    issued = issue_draft_document(draft, actor=cashier, idempotency_key=key()).record
    assert issued.status is DocumentStatus.ISSUED and issued.number == 1
    assert issued.display_number == "INV-000001" and issued.total_minor == 5000
    assert issued.issued_at is not None and _messages() == []  # auto-send is off by default
    second = make_document(doc_type=DocumentType.INVOICE)
    db.session.commit()
    assert issue_draft_document(second, actor=cashier, idempotency_key=key()).record.number == 2
    entries = audit_entries("issue_document")
    assert [e.after["number"] for e in entries] == [1, 2] and entries[0].actor_id == cashier.id


def test_issue_queues_when_cashier_settings_say_so(draft, cashier, key):
    _auto_send(DeliveryChannel.SMS)
    issued = issue_draft_document(draft, actor=cashier, idempotency_key=key()).record
    (message,) = _messages()
    assert message.document_id == issued.id and message.recipient == "+15550100"
    assert issued.sent_channel is DeliveryChannel.SMS and issued.sent_at is not None
    assert audit_entries("issue_document")[0].after["queued_channel"] == "sms"


def test_issue_does_not_queue_types_left_out(draft, cashier, key):
    _auto_send(auto_send_invoices=False)
    issue_draft_document(draft, actor=cashier, idempotency_key=key())
    assert _messages() == [] and draft.sent_at is None


def test_issue_refuses_an_issued_document(draft, cashier, key):
    issue_draft_document(draft, actor=cashier, idempotency_key=key())
    with pytest.raises(ActionError) as refused:
        issue_draft_document(draft, actor=cashier, idempotency_key=key())
    assert refused.value.code == "document_not_draft"
    assert draft.number == 1 and len(audit_entries("issue_document")) == 1


@pytest.mark.parametrize("lines", [[], [0]])
def test_issue_refuses_an_empty_draft_and_keeps_the_number(app, cashier, key, lines):
    empty = Document(contact=make_contact(), doc_type=DocumentType.INVOICE, currency="USD")
    empty.lines = [DocumentLine(description="Nothing", quantity=1, unit_amount_minor=amount)
                   for amount in lines]
    db.session.add(empty)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        issue_draft_document(empty, actor=cashier, idempotency_key=key())
    assert refused.value.code == "document_empty"
    db.session.refresh(empty)
    assert empty.status is DocumentStatus.DRAFT and empty.number is None
    nxt = make_document()
    db.session.commit()
    assert issue_draft_document(nxt, actor=cashier, idempotency_key=key()).record.number == 1


def test_issue_double_submit_and_viewer(draft, cashier, viewer, key):
    with pytest.raises(ActionError) as refused:
        issue_draft_document(draft, actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted" and draft.status is DocumentStatus.DRAFT
    same = key()
    issue_draft_document(draft, actor=cashier, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        issue_draft_document(draft, actor=cashier, idempotency_key=same)
    assert len(audit_entries("issue_document")) == 1


# --- send ------------------------------------------------------------------------------------

@pytest.fixture
def issued(draft, cashier, key):
    return issue_draft_document(draft, actor=cashier, idempotency_key=key()).record


@pytest.mark.parametrize(("channel", "recipient"), [(DeliveryChannel.EMAIL, "ada@example.com"),
                                                    (DeliveryChannel.SMS, "+15550100")])
def test_send_queues_and_marks_sent(issued, cashier, key, channel, recipient):
    message = send_document(issued, channel=channel, actor=cashier, idempotency_key=key()).record
    assert message.document_id == issued.id and message.recipient == recipient
    assert issued.sent_channel is channel and issued.sent_at is not None
    (entry,) = audit_entries("send_document")
    assert entry.before["sent_at"] is None and entry.after["sent_channel"] == channel.value


def test_send_again_is_a_resend(issued, cashier, key):
    send_document(issued, channel=DeliveryChannel.EMAIL, actor=cashier, idempotency_key=key())
    send_document(issued, channel=DeliveryChannel.SMS, actor=cashier, idempotency_key=key())
    assert len(_messages()) == 2 and issued.sent_channel is DeliveryChannel.SMS


def test_send_refuses_a_draft(draft, cashier, key):
    with pytest.raises(ActionError) as refused:
        send_document(draft, channel=DeliveryChannel.EMAIL, actor=cashier, idempotency_key=key())
    assert refused.value.code == "document_not_issued" and _messages() == []


@pytest.mark.parametrize(("channel", "missing", "code"), [
    (DeliveryChannel.EMAIL, "email", "no_email"), (DeliveryChannel.SMS, "phone", "no_phone")])
def test_send_needs_an_address(issued, cashier, key, channel, missing, code):
    setattr(issued.contact, missing, None)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        send_document(issued, channel=channel, actor=cashier, idempotency_key=key())
    assert refused.value.code == code
    db.session.refresh(issued)
    assert _messages() == [] and issued.sent_at is None and audit_entries("send_document") == []


def test_send_double_submit_and_viewer(issued, cashier, viewer, key):
    with pytest.raises(ActionError) as refused:
        send_document(issued, channel=DeliveryChannel.EMAIL, actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted"
    same = key()
    send_document(issued, channel=DeliveryChannel.EMAIL, actor=cashier, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        send_document(issued, channel=DeliveryChannel.EMAIL, actor=cashier, idempotency_key=same)
    assert len(_messages()) == 1


# --- the admin pages -------------------------------------------------------------------------

def test_menu_offers_issue_on_drafts_and_send_on_issued(client, login, draft):
    login("cashier")
    listing = client.get("/admin/document/").get_data(as_text=True)
    assert f"/admin/document/issue/?id={draft.id}" in listing
    assert "/admin/document/send/" not in listing
    item = re.search(r'action="(/admin/document/issue/[^"]+)"'
                     r'.*?name="idempotency_key" value="([0-9a-f]+)"', listing, re.S)
    issue_url, item_key = item[1].replace("&amp;", "&"), {"idempotency_key": item[2]}
    assert "url=/admin/document/" in issue_url  # back to where the admin clicked
    done = client.post(issue_url, data=item_key)
    assert done.status_code == 302 and done.location.startswith("/admin/document/")
    assert b"Issued Invoice INV-000001" in client.get(done.location).data
    again = client.post(issue_url, data=item_key, follow_redirects=True)
    assert b"Already done" in again.data
    listing = client.get("/admin/document/").get_data(as_text=True)
    assert "Send by Email" in listing and "Send by SMS" in listing
    assert f"/admin/document/issue/?id={draft.id}" not in listing


def test_send_from_the_details_page(client, login, issued):
    login("cashier")
    details = client.get(f"/admin/document/details/?id={issued.id}").get_data(as_text=True)
    assert "Send by SMS" in details
    sent = client.post(f"/admin/document/send/?id={issued.id}&channel=sms",
                       data={"idempotency_key": "k-1"}, follow_redirects=True)
    assert b"queued for sending by SMS to +15550100" in sent.data
    bad = client.post(f"/admin/document/send/?id={issued.id}&channel=fax",
                      data={"idempotency_key": "k-2"}, follow_redirects=True)
    assert b"Choose Email or SMS" in bad.data and len(_messages()) == 1


def test_viewer_sees_no_actions(client, login, draft):
    login("viewer")
    listing = client.get("/admin/document/").get_data(as_text=True)
    assert "/admin/document/issue/" not in listing
    refused = client.post(f"/admin/document/issue/?id={draft.id}",
                          data={"idempotency_key": "k-1"}, follow_redirects=True)
    assert b"may not issue" in refused.data
