"""The worker's side of delivery: send each queued message once, retry what failed for a
passing reason, give up on what cannot be sent, and keep every attempt.

The rules:

- **After commit, outside any transaction.** A message is claimed in a short committed
  transaction (``queued`` → ``sending``, only one worker wins), the provider is called with no
  transaction open, and the outcome is written in a second one.
- **Retries**: a temporary failure (network, SMTP 4xx, Twilio 5xx/429) is tried again with
  back-off (1, 5, 15, 30 minutes, then hourly) for up to a day from the first attempt, then
  marked failed. A permanent one (SMTP 5xx, an invalid number) is failed at once.
- **Sent once**: a worker that died while sending leaves the message ``sending``. After
  ``STALE_AFTER`` it is recovered without sending blindly: Twilio is asked whether it holds an
  SMS with the message's reference (sent → recorded; not there → tried again), the Outbox is
  looked at (its item and the "sent" mark commit together); an email whose
  SMTP server may have accepted it cannot be looked up, so it is marked *not confirmed*, shown
  on the document and on Home, and resent only by an admin.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update

from ..clock import utcnow
from ..extensions import db
from ..models import DeliveryAttempt, Document, MessageStatus, OutboundMessage, OutboxItem
from .composing import compose
from .providers import DeliveryFailure, PermanentFailure, TemporaryFailure, provider_for

BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 30)]
GIVE_UP_AFTER = timedelta(days=1)
STALE_AFTER = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 1, 5, 15, 30 minutes, then every hour."""
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else timedelta(hours=1)


def _claim(message_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id,
               OutboundMessage.status == MessageStatus.QUEUED,
               or_(OutboundMessage.next_attempt_at.is_(None),
                   OutboundMessage.next_attempt_at <= now))
        .values(status=MessageStatus.SENDING, claimed_at=now,
                attempts=OutboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return claimed


def _set_document_state(message: OutboundMessage) -> None:
    if message.document_id is not None:
        document = db.session.get(Document, message.document_id)
        document.delivery_state = message.status.value


def deliver(message_id: int) -> MessageStatus | None:
    """Send message ``message_id`` if it is due and no one else is sending it; the status it
    ends in, or None when it was not ours to send. Safe to run twice, and concurrently."""
    if not _claim(message_id):
        db.session.rollback()
        return None
    message = db.session.get(OutboundMessage, message_id)
    provider = provider_for(message.channel)
    attempt = DeliveryAttempt(message_id=message.id, started_at=message.claimed_at,
                              provider=provider.name, outcome="sending")
    db.session.add(attempt)
    message.provider = provider.name
    db.session.commit()
    try:
        composed = compose(message)
        if provider.is_transactional:
            provider_id = provider.send(message, composed)
        else:
            db.session.commit()  # nothing pending: no transaction open during the call
            provider_id = provider.send(message, composed)
    except DeliveryFailure as failure:
        db.session.rollback()
        return _record_failure(message_id, attempt.id, failure)
    except Exception as error:  # noqa: BLE001 - a bug in composing: kept and retried
        db.session.rollback()
        _record_failure(message_id, attempt.id,
                        TemporaryFailure(f"{type(error).__name__}: {error}"[:300]))
        raise
    return _record_sent(message_id, attempt.id, provider_id)


def _record_sent(message_id: int, attempt_id: int, provider_id: str) -> MessageStatus:
    message = db.session.get(OutboundMessage, message_id)
    attempt = db.session.get(DeliveryAttempt, attempt_id)
    now = utcnow()
    message.status, message.sent_at, message.error = MessageStatus.SENT, now, None
    message.provider_message_id = (provider_id or "")[:100]
    attempt.outcome, attempt.finished_at = "sent", now
    _set_document_state(message)
    db.session.commit()
    return message.status


def _record_failure(message_id: int, attempt_id: int,
                    failure: DeliveryFailure) -> MessageStatus:
    message = db.session.get(OutboundMessage, message_id)
    attempt = db.session.get(DeliveryAttempt, attempt_id)
    now = utcnow()
    first = db.session.scalar(select(DeliveryAttempt.started_at)
                              .where(DeliveryAttempt.message_id == message_id)
                              .order_by(DeliveryAttempt.id).limit(1)) or now
    message.error = str(failure)[:300]
    retry_at = now + backoff(message.attempts)
    if isinstance(failure, PermanentFailure) or retry_at - first > GIVE_UP_AFTER:
        message.status, message.next_attempt_at = MessageStatus.FAILED, None
        attempt.outcome = "failed"
        if not isinstance(failure, PermanentFailure):
            message.error = f"Gave up after a day: {failure}"[:300]
    else:
        message.status, message.next_attempt_at = MessageStatus.QUEUED, retry_at
        attempt.outcome = "retry"
    attempt.error, attempt.finished_at = str(failure)[:300], now
    _set_document_state(message)
    db.session.commit()
    return message.status


def due_message_ids(limit: int = 500) -> list[int]:
    """Queued messages whose (next) attempt is due, oldest first."""
    now = utcnow()
    return list(db.session.scalars(
        select(OutboundMessage.id)
        .where(OutboundMessage.status == MessageStatus.QUEUED,
               or_(OutboundMessage.next_attempt_at.is_(None),
                   OutboundMessage.next_attempt_at <= now))
        .order_by(OutboundMessage.id).limit(limit)))


def recover_stale(now=None) -> int:
    """Messages left ``sending`` by a worker that died: looked up where the provider can say
    (Twilio), else marked not confirmed. Returns how many were settled."""
    now = now or utcnow()
    stale = list(db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.status == MessageStatus.SENDING,
                                      OutboundMessage.claimed_at < now - STALE_AFTER)))
    for message in stale:
        provider = provider_for(message.channel)
        attempt = db.session.scalar(select(DeliveryAttempt)
                                    .where(DeliveryAttempt.message_id == message.id)
                                    .order_by(DeliveryAttempt.id.desc()).limit(1))
        if message.provider == "outbox":  # kept and marked in one transaction: look
            item = db.session.scalar(select(OutboxItem.id)
                                     .where(OutboxItem.message_id == message.id))
            if item is not None:
                _record_sent(message.id, attempt.id, f"outbox-{item}")
            else:
                _record_failure(message.id, attempt.id, TemporaryFailure(
                    "The worker stopped before the message was kept."))
            continue
        if hasattr(provider, "find_sent") and provider.name == message.provider:
            since = message.claimed_at - timedelta(minutes=1)
            db.session.commit()
            try:
                sid = provider.find_sent(message, since)
            except TemporaryFailure:
                continue  # ask again on the next sweep
            if sid:
                _record_sent(message.id, attempt.id, sid)
            else:
                _record_failure(message.id, attempt.id, TemporaryFailure(
                    "The worker stopped while sending; the provider has no such message."))
            continue
        message.status = MessageStatus.UNCONFIRMED
        message.error = ("The worker stopped while the provider was being asked: the message "
                         "may have been delivered. Resend it if the member did not get it.")
        if attempt is not None:
            attempt.outcome, attempt.finished_at = "unconfirmed", now
            attempt.error = message.error[:300]
        _set_document_state(message)
        db.session.commit()
    return len(stale)


def deliver_due() -> str:
    """One sweep: recover stale sends, then send every due message (the worker's schedule)."""
    recovered = recover_stale()
    counts: dict[str, int] = {}
    for message_id in due_message_ids():
        status = deliver(message_id)
        if status is not None:
            counts[status.value] = counts.get(status.value, 0) + 1
    parts = [f"{n} {state}" for state, n in sorted(counts.items())]
    if recovered:
        parts.append(f"{recovered} interrupted send(s) settled")
    return ", ".join(parts) if parts else "Nothing to send."
