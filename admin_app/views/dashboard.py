"""Home: the headline figures (``reports.home``), what needs doing, and the latest
transactions; "Check with the processor" for every payment and refund still pending."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import select

from ..actions.reconcile_pending import reconcile_pending
from ..billing.reconciling import Outcome
from ..extensions import db
from ..models import BulkJob, BulkJobState, Payment, PaymentMethodKind, PaymentStatus
from ..reports.home import headlines, todo
from .access import AccessMixin
from .action_forms import new_idempotency_key
from .bulk import run_bulk_action


class DashboardView(AccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        figures, as_of = headlines()
        running_jobs = db.session.scalars(
            select(BulkJob).where(BulkJob.state.in_((BulkJobState.QUEUED,
                                                     BulkJobState.RUNNING)))
            .order_by(BulkJob.id).limit(10)).all()
        recent_payments = db.session.scalars(
            select(Payment).order_by(Payment.created_at.desc()).limit(8)).all()
        return self.render("admin/dashboard.html", headlines=figures, as_of=as_of,
                           todo=todo(), running_jobs=running_jobs,
                           recent_payments=recent_payments, may_write=self.may_write)

    @expose("/check-with-processor/", methods=("POST",))
    def check_with_processor(self):
        """Every pending card payment and refund checked with the processor (each its own
        audited action, as from the lists); many pending payments go to a background job."""
        if not self.may_write:
            flash("Your role does not allow checking with the payment processor.", "error")
            return redirect(url_for(".index"))
        pending = db.session.scalars(
            select(Payment.id).where(Payment.status == PaymentStatus.PENDING,
                                     Payment.method == PaymentMethodKind.CARD)
            .order_by(Payment.id)).all()
        if len(pending) > current_app.config.get("BULK_INLINE_MAX", 50):
            return run_bulk_action("reconcile_payment", {}, list(pending),
                                   key=request.form.get("idempotency_key") or
                                   new_idempotency_key(),
                                   back=url_for(".index"),
                                   label=f"Check {len(pending)} payments with the processor")
        done = reconcile_pending(actor=current_user)
        waiting = sum(r.outcome is Outcome.STILL_PENDING for r in done)
        if not done:
            flash("Nothing is waiting for the payment processor's answer.", "info")
        else:
            flash(f"Checked with the processor: {len(done) - waiting} settled, {waiting} still "
                  "waiting for its answer.", "warning" if waiting else "success")
        return redirect(url_for(".index"))
