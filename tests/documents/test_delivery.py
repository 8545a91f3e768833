"""Delivery on the worker's side: real SMTP (aiosmtpd) and a Twilio-compatible server on
loopback, the Outbox by default, retries, permanent failures, and sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admin_app.clock import freeze, utcnow
from admin_app.documents import queue_delivery, receipt_for_payment
from admin_app.documents.delivery import failed_deliveries_count
from admin_app.documents.sending import deliver, deliver_due
from admin_app.extensions import db
from admin_app.models import (
    DeliveryAttempt,
    DeliveryChannel,
    MessageStatus,
    OutboundMessage,
    OutboxItem,
)
from tests.documents.pdf_text import pdf_text
from tests.factories import make_contact, make_payment

pytestmark = pytest.mark.backends("sqlite")


def use(app, *, smtp=None, twilio=None) -> None:
    """Point the app's delivery at the loopback servers (or back at the Outbox)."""
    app.config["SMTP_URL"] = smtp.url if smtp else None
    app.config["MAIL_FROM"] = "Harbor Physio <billing@harbor.example>"
    if twilio:
        app.config.update(TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="token",
                          TWILIO_FROM="+15005550006", TWILIO_API_BASE=twilio.url)
    else:
        app.config["TWILIO_ACCOUNT_SID"] = None
    app.extensions.pop("delivery_providers", None)


def queued_receipt(channel=DeliveryChannel.EMAIL, **contact) -> OutboundMessage:
    person = make_contact(first_name="Grace", last_name="Hopper", email="grace@example.com",
                          phone="+15550147", **contact)
    receipt = receipt_for_payment(make_payment(contact=person, amount_minor=4500),
                                  description="Pilates class")
    message = queue_delivery(receipt, channel)
    db.session.commit()
    return message


def attempts(message) -> list[str]:
    return [a.outcome for a in db.session.query(DeliveryAttempt)
            .filter_by(message_id=message.id).order_by(DeliveryAttempt.id)]


def test_email_arrives_with_the_pdf_attached(app, smtp_server):
    use(app, smtp=smtp_server)
    message = queued_receipt()
    assert deliver(message.id) is MessageStatus.SENT
    (received,) = smtp_server.messages
    assert smtp_server.envelopes == [("billing@harbor.example", ["grace@example.com"])]
    assert received["To"] == "grace@example.com"
    number = message.document.display_number
    assert received["Subject"] == f"Your receipt {number}"
    body = received.get_body(("plain",)).get_content()
    assert number in body and "$45.00" in body and "/d/" in body
    assert received.get_body(("html",)) is not None
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"receipt-{number}.pdf"
    text, pages = pdf_text(attachment.get_content())
    assert pages == 1 and number in text and "$45.00" in text
    db.session.refresh(message)
    assert message.provider == "smtp" and message.provider_message_id == received["Message-ID"]
    assert message.document.delivery_state == "sent" and attempts(message) == ["sent"]
    assert deliver(message.id) is None and len(smtp_server.messages) == 1  # sent once


def test_nothing_configured_goes_to_the_outbox(app):
    use(app)
    message = queued_receipt()
    assert deliver(message.id) is MessageStatus.SENT
    item = db.session.query(OutboxItem).one()
    assert item.message_id == message.id and item.recipient == "grace@example.com"
    import email
    import email.policy

    parsed = email.message_from_bytes(item.raw, policy=email.policy.default)
    (attachment,) = list(parsed.iter_attachments())
    assert message.document.display_number in pdf_text(attachment.get_content())[0]
    assert deliver(message.id) is None and db.session.query(OutboxItem).count() == 1


def test_smtp_down_is_retried_and_delivered_once(app, smtp_server):
    use(app, smtp=smtp_server)
    message = queued_receipt()
    smtp_server.stop()
    assert deliver(message.id) is MessageStatus.QUEUED
    db.session.refresh(message)
    assert "not reached" in message.error and attempts(message) == ["retry"]
    assert message.next_attempt_at > utcnow()
    assert deliver_due() == "Nothing to send."  # not due yet: back-off
    smtp_server.start()
    freeze(utcnow() + timedelta(minutes=2))
    assert "1 sent" in deliver_due()
    assert deliver_due() == "Nothing to send."
    assert len(smtp_server.messages) == 1 and attempts(message) == ["retry", "sent"]


@pytest.mark.parametrize(("answer", "status", "outcome"), [
    ("451 4.3.0 Mailbox busy", MessageStatus.QUEUED, "retry"),
    ("550 5.1.1 No such user", MessageStatus.FAILED, "failed"),
])
def test_smtp_refusals(app, smtp_server, answer, status, outcome):
    use(app, smtp=smtp_server)
    message = queued_receipt()
    smtp_server.reject = answer
    assert deliver(message.id) is status
    db.session.refresh(message)
    assert answer.split()[0] in message.error and attempts(message) == [outcome]
    assert failed_deliveries_count() == (1 if status is MessageStatus.FAILED else 0)


def test_temporary_failures_give_up_after_a_day(app, smtp_server):
    use(app, smtp=smtp_server)
    message = queued_receipt()
    smtp_server.reject = "421 4.7.0 Try later"
    start = utcnow()
    for _ in range(40):
        db.session.refresh(message)
        if message.status is not MessageStatus.QUEUED:
            break
        freeze(max(utcnow(), message.next_attempt_at))
        deliver(message.id)
    db.session.refresh(message)
    assert message.status is MessageStatus.FAILED and message.error.startswith("Gave up")
    assert utcnow() - start <= timedelta(days=1, hours=1)
    assert attempts(message)[-1] == "failed" and set(attempts(message)[:-1]) == {"retry"}


def test_sms_through_twilio_carries_a_link_to_the_document(app, client, twilio_server):
    use(app, twilio=twilio_server)
    message = queued_receipt(DeliveryChannel.SMS)
    assert deliver(message.id) is MessageStatus.SENT
    (request,) = twilio_server.requests
    assert request["path"].endswith("/Messages.json")
    assert request["form"]["To"] == "+15550147" and request["form"]["From"] == "+15005550006"
    body = request["form"]["Body"]
    number = message.document.display_number
    assert number in body and message.reference in body
    db.session.refresh(message)
    assert message.provider_message_id == twilio_server.accepted[0]["sid"]
    link = next(word for word in body.split() if "/d/" in word)
    path = link.split("127.0.0.1:5000", 1)[-1] if "5000" in link else "/" + link.split("/", 3)[3]
    page = client.get(path)
    assert page.status_code == 200 and number in page.get_data(as_text=True)
    pdf = client.get(path + "/pdf")
    assert pdf.mimetype == "application/pdf" and number in pdf_text(pdf.data)[0]
    assert client.get(path[:-3] + "xyz").status_code == 410  # tampered
    freeze(utcnow() + timedelta(days=31))
    assert client.get(path).status_code == 410  # expired


@pytest.mark.parametrize(("answer", "status"), [
    (400, MessageStatus.FAILED), (429, MessageStatus.QUEUED), (500, MessageStatus.QUEUED)])
def test_twilio_refusals(app, twilio_server, answer, status):
    use(app, twilio=twilio_server)
    message = queued_receipt(DeliveryChannel.SMS)
    twilio_server.status = answer
    assert deliver(message.id) is status
    db.session.refresh(message)
    assert f"Twilio {answer}" in message.error
    if status is MessageStatus.QUEUED:
        twilio_server.status = 201
        freeze(utcnow() + timedelta(minutes=2))
        assert deliver(message.id) is MessageStatus.SENT
        assert len(twilio_server.accepted) == 1
