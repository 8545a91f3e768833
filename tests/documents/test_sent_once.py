"""Nothing is sent twice: a worker killed after the provider accepted a message, and real
``flask worker`` processes delivering what actions queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from admin_app.clock import freeze, utcnow
from admin_app.documents.delivery import failed_deliveries_count
from admin_app.documents.sending import deliver_due
from admin_app.extensions import db
from admin_app.models import DeliveryChannel, MessageStatus, OutboundMessage
from tests.documents.test_delivery import queued_receipt, use
from tests.workers import wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSED = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "JOBS_URL", "OFFLINE_GATEWAY_URL",
          "SMTP_URL", "MAIL_FROM", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
          "TWILIO_API_BASE", "TESTING")


def deliver_and_die(app, message_id: int) -> int:
    config = {name: app.config.get(name) for name in PASSED}
    done = subprocess.run([sys.executable, "-m", "tests.delivery_crash_runner"], cwd=ROOT,
                          env={**os.environ, "CRASH_CONFIG": json.dumps(config),
                               "CRASH_MESSAGE": str(message_id)},
                          capture_output=True, text=True, timeout=120)
    return done.returncode


def message(message_id: int) -> OutboundMessage:
    db.session.expire_all()
    return db.session.get(OutboundMessage, message_id)


@pytest.mark.backends("sqlite")  # the claim is one UPDATE: same on both
def test_sms_accepted_then_worker_killed_is_found_not_resent(app, twilio_server):
    use(app, twilio=twilio_server)
    queued = queued_receipt(DeliveryChannel.SMS)
    assert deliver_and_die(app, queued.id) == -9
    assert len(twilio_server.accepted) == 1
    assert message(queued.id).status is MessageStatus.SENDING
    assert deliver_due() == "Nothing to send."  # too early to call it stale
    freeze(utcnow() + timedelta(minutes=11))
    deliver_due()
    settled = message(queued.id)
    assert settled.status is MessageStatus.SENT
    assert settled.provider_message_id == twilio_server.accepted[0]["sid"]
    assert len(twilio_server.requests) == 1  # looked up (GET), never posted again


@pytest.mark.backends("sqlite")  # the claim is one UPDATE: same on both
def test_sms_never_accepted_before_the_kill_is_sent_again(app, twilio_server):
    use(app, twilio=twilio_server)
    queued = queued_receipt(DeliveryChannel.SMS)
    twilio_server.status = 500  # the provider took nothing; then the worker died
    assert deliver_and_die(app, queued.id) != -9  # 500 is a temporary failure: no crash
    twilio_server.status = 201
    db.session.execute(OutboundMessage.__table__.update().values(
        status="sending", claimed_at=utcnow()))
    db.session.commit()
    freeze(utcnow() + timedelta(minutes=11))
    deliver_due()  # not at Twilio: queued again (back-off)
    freeze(utcnow() + timedelta(minutes=2))
    deliver_due()
    assert message(queued.id).status is MessageStatus.SENT
    assert len(twilio_server.accepted) == 1


@pytest.mark.backends("sqlite")  # the claim is one UPDATE: same on both
def test_email_accepted_then_worker_killed_is_not_sent_again(app, smtp_server):
    use(app, smtp=smtp_server)
    queued = queued_receipt()
    assert deliver_and_die(app, queued.id) == -9
    assert len(smtp_server.messages) == 1
    freeze(utcnow() + timedelta(minutes=11))
    deliver_due()
    deliver_due()
    settled = message(queued.id)
    assert settled.status is MessageStatus.UNCONFIRMED and "may have been" in settled.error
    assert len(smtp_server.messages) == 1
    assert settled.document.delivery_state == "unconfirmed" and failed_deliveries_count() == 1


@pytest.mark.fresh_database
def test_a_real_worker_delivers_after_commit(app, smtp_server, start_worker):
    use(app, smtp=smtp_server)
    start_worker()
    queued = [queued_receipt().id for _ in range(3)]
    wait_for(lambda: all(message(i).status is MessageStatus.SENT for i in queued),
             what="the worker's deliveries")
    assert len(smtp_server.messages) == 3


@pytest.mark.backends("sqlite")  # the claim is one UPDATE: same on both
def test_outbox_send_interrupted_is_kept_again_not_lost(app):
    use(app)
    queued = queued_receipt()
    # A worker claimed it and died before its transaction (item + "sent") committed.
    from admin_app.models import DeliveryAttempt

    db.session.execute(OutboundMessage.__table__.update().values(
        status="sending", claimed_at=utcnow(), provider="outbox", attempts=1))
    db.session.add(DeliveryAttempt(message_id=queued.id, started_at=utcnow(),
                                   provider="outbox", outcome="sending"))
    db.session.commit()
    freeze(utcnow() + timedelta(minutes=11))
    deliver_due()
    freeze(utcnow() + timedelta(minutes=2))
    deliver_due()
    assert message(queued.id).status is MessageStatus.SENT
