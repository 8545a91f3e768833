"""Signing up through a plan's Subscription Link: the member's attempts, personal
invitations, and the link's counters.

A **sign-up attempt** is the public page's record of one member paying to join: who they said
they are, what is due today, and how the payment went. It is the page's pending record around
the processor call (its ``reference`` is the charge's idempotency key), so nothing else exists
for a sign-up until it is paid: the contact, the subscription, the payment, the credits and
the receipt are all written in the transaction that learns the payment succeeded. A declined
or refused attempt stays on record here (with the processor's reason) and nowhere else.

A **plan invitation** is a personal, single-use link for one contact, optionally with a promo
code preset and an expiry date.
"""

from __future__ import annotations

from datetime import datetime
from secrets import token_hex, token_urlsafe

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import (
    LabelledEnum,
    UTCDateTime,
    currency_check,
    currency_column,
    money_column,
    non_negative,
    str_enum,
    utcnow,
)
from .catalog import Plan
from .contact import Contact
from .document import DeliveryChannel
from .promo import PromoCode


class SignupStatus(LabelledEnum):
    """``pending``: paying (the processor's answer not known yet); ``paid``: the member is
    signed up; ``failed``: declined or refused, nothing was created."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


def new_signup_reference() -> str:
    """The attempt's reference at the processor (idempotency key, ``metadata.reference``):
    random, shaped like a payment's, and used as the payment's reference once paid."""
    return f"payment-{token_hex(10)}"


class SignupAttempt(db.Model):
    __tablename__ = "signup_attempt"
    __table_args__ = (
        non_negative("amount_minor"),
        currency_check(),
        Index("ix_signup_attempt_plan_status", "plan_id", "status"),
        Index("ix_signup_attempt_address_created", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("plan_invitation.id"),
                                                      index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True, nullable=False,
                                           default=new_signup_reference)
    status: Mapped[SignupStatus] = mapped_column(
        str_enum(SignupStatus, "signup_status"), nullable=False, default=SignupStatus.PENDING,
        index=True)
    first_name: Mapped[str] = mapped_column(String(80), nullable=False)
    last_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_code.id"))
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    # The processor's customer the card was saved on, the card, and the charge.
    customer_id: Mapped[str | None] = mapped_column(String(64))
    card_gateway_id: Mapped[str | None] = mapped_column(String(64))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    gateway_id: Mapped[str | None] = mapped_column(String(64), index=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    # Who tried (for the repeated-declines limit): the address the request came from.
    client_address: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship()
    promo_code: Mapped[PromoCode | None] = relationship()
    invitation = relationship("PlanInvitation")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def saved_card(self):
        """The card the processor saved for this attempt, as the gateway described it."""
        from ..payments import SavedCard

        if not self.card_gateway_id:
            return None
        return SavedCard(self.card_gateway_id, self.card_brand or "card",
                         self.card_last4 or "0000", self.card_exp_month or 1,
                         self.card_exp_year or 2000)

    def __str__(self) -> str:
        return f"Sign-up #{self.id} to {self.plan}"


class InvitationState(LabelledEnum):
    SENT = "sent"
    OPENED = "opened"
    SIGNED_UP = "signed_up"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {"signed_up": "Signed up"}.get(self.value, self.value.capitalize())


def new_invitation_token() -> str:
    return token_urlsafe(18)


class PlanInvitation(db.Model):
    """A personal invitation: a single-use link to a plan's sign-up page for one contact."""

    __tablename__ = "plan_invitation"
    __table_args__ = (CheckConstraint("open_count >= 0", name="open_count_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False, index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), nullable=False,
                                            index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False,
                                       default=new_invitation_token)
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_code.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[DeliveryChannel] = mapped_column(
        str_enum(DeliveryChannel, "delivery_channel"), nullable=False)
    outbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id"))
    open_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    plan: Mapped[Plan] = relationship()
    contact: Mapped[Contact] = relationship()
    promo_code: Mapped[PromoCode | None] = relationship()

    def state(self, at: datetime) -> InvitationState:
        if self.signed_up_at is not None:
            return InvitationState.SIGNED_UP
        if self.expires_at is not None and self.expires_at <= at:
            return InvitationState.EXPIRED
        return InvitationState.OPENED if self.opened_at is not None else InvitationState.SENT

    def __str__(self) -> str:
        return f"Invitation #{self.id} to {self.plan}"


class PlanLinkCounter(db.Model):
    """How often a plan's public link was opened (the page shown); one row per plan, counted
    with one ``UPDATE ... SET opened = opened + 1``. Started and paid sign-ups are counted from
    ``signup_attempt``."""

    __tablename__ = "plan_link_counter"
    __table_args__ = (CheckConstraint("opened >= 0", name="opened_non_negative"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"),
                                         primary_key=True)
    opened: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
