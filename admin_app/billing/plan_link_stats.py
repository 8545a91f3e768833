"""A plan's Subscription Link in figures: how often it was opened, how many sign-ups started
(a payment was attempted) and were paid, and the conversion (paid ÷ opened); the same per
personal invitation, with its state (sent, opened, signed up, expired).

Opening is counted when the page is shown (``count_open``: one ``UPDATE ... + 1``, safe under
concurrency); started and paid are counted from ``signup_attempt``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from ..models import Plan, PlanInvitation, PlanLinkCounter, SignupAttempt, SignupStatus


@dataclass(frozen=True)
class LinkStats:
    opened: int
    started: int
    paid: int

    @property
    def conversion(self) -> str:
        """ "12.5 %" of openings that ended paid ("—" before anyone opened it)."""
        if not self.opened:
            return "—"
        return f"{100 * self.paid / self.opened:.1f} %"


def count_open(plan: Plan, invitation: PlanInvitation | None = None) -> None:
    """One more opening of the plan's page (and of the invitation), in the caller's
    transaction."""
    done = db.session.execute(update(PlanLinkCounter).where(PlanLinkCounter.plan_id == plan.id)
                              .values(opened=PlanLinkCounter.opened + 1)).rowcount
    if not done:
        try:
            with db.session.begin_nested():
                db.session.add(PlanLinkCounter(plan_id=plan.id, opened=1))
        except IntegrityError:  # created meanwhile by another opening
            db.session.execute(update(PlanLinkCounter).where(
                PlanLinkCounter.plan_id == plan.id).values(opened=PlanLinkCounter.opened + 1))
    if invitation is not None:
        db.session.execute(update(PlanInvitation).where(PlanInvitation.id == invitation.id)
                           .values(open_count=PlanInvitation.open_count + 1,
                                   opened_at=func.coalesce(PlanInvitation.opened_at, utcnow())))


def _attempts(*where) -> tuple[int, int]:
    started = db.session.scalar(select(func.count()).select_from(SignupAttempt).where(*where))
    paid = db.session.scalar(select(func.count()).select_from(SignupAttempt).where(
        *where, SignupAttempt.status == SignupStatus.PAID))
    return started, paid


def link_stats(plan: Plan) -> LinkStats:
    opened = db.session.scalar(select(PlanLinkCounter.opened).where(
        PlanLinkCounter.plan_id == plan.id)) or 0
    started, paid = _attempts(SignupAttempt.plan_id == plan.id)
    return LinkStats(opened, started, paid)


def invitation_stats(invitation: PlanInvitation) -> LinkStats:
    started, paid = _attempts(SignupAttempt.invitation_id == invitation.id)
    return LinkStats(invitation.open_count, started, paid)


def recent_invitations(plan: Plan, limit: int = 50) -> list[PlanInvitation]:
    return list(db.session.scalars(select(PlanInvitation).where(PlanInvitation.plan_id
                                                                == plan.id)
                                   .order_by(PlanInvitation.id.desc()).limit(limit)))
