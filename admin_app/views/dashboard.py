"""Home: what needs attention today, at a glance."""

from __future__ import annotations

from datetime import timedelta

from flask_admin import AdminIndexView, expose
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db
from ..models import (
    Appointment,
    AppointmentStatus,
    BulkJob,
    BulkJobState,
    NoShowFeeStatus,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
)
from .access import AccessMixin


class DashboardView(AccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        now = utcnow()
        by_status = dict(db.session.execute(
            select(Subscription.status, func.count()).group_by(Subscription.status)
        ).all())
        failed_week = db.session.scalar(
            select(func.count()).select_from(Payment)
            .where(Payment.status == PaymentStatus.FAILED,
                   Payment.created_at >= now - timedelta(days=7))
        )
        open_no_shows = db.session.scalar(
            select(func.count()).select_from(Appointment)
            .where(Appointment.status == AppointmentStatus.NO_SHOW,
                   Appointment.no_show_fee_status == NoShowFeeStatus.NONE)
        )
        # Unsettled: the processor did not answer; reconcile (or a webhook) settles them.
        unsettled_payments = db.session.scalar(
            select(func.count()).select_from(Payment)
            .where(Payment.status == PaymentStatus.PENDING,
                   Payment.method == PaymentMethodKind.CARD))
        unsettled_refunds = db.session.scalar(
            select(func.count()).select_from(Refund).where(Refund.status == RefundStatus.PENDING))
        running_jobs = db.session.scalars(
            select(BulkJob).where(BulkJob.state.in_((BulkJobState.QUEUED,
                                                     BulkJobState.RUNNING)))
            .order_by(BulkJob.id).limit(10)).all()
        recent_payments = db.session.scalars(
            select(Payment).order_by(Payment.created_at.desc()).limit(8)
        ).all()
        return self.render(
            "admin/dashboard.html",
            active=by_status.get(SubscriptionStatus.ACTIVE, 0),
            past_due=by_status.get(SubscriptionStatus.PAST_DUE, 0),
            incomplete=by_status.get(SubscriptionStatus.INCOMPLETE, 0),
            failed_week=failed_week,
            open_no_shows=open_no_shows,
            unsettled_payments=unsettled_payments,
            unsettled_refunds=unsettled_refunds,
            recent_payments=recent_payments,
            running_jobs=running_jobs,
        )
