"""Cashier → Transactions / Refunds → ⋯ → Check with the processor, on a payment or refund
kept pending because the processor did not answer (``billing.reconciling``)."""

from __future__ import annotations

from flask import current_app, flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user

from ..actions.reconcile_payment import reconcile_payment
from ..actions.reconcile_refund import reconcile_refund
from ..billing.reconciling import Outcome, reconcile_refusal
from ..errors import ActionError
from ..extensions import db
from ..models import Payment
from ..money import format_money
from ..redirects import back_target
from .action_forms import ActionForm, new_idempotency_key
from .action_pages import ActionPage
from .bulk import run_bulk, run_bulk_action, selection
from .formatting import format_datetime
from .record_ids import BadRowIds
from .row_menu import MenuItem

INTRO = ("The payment processor did not answer when it was asked, so this record was kept "
         "pending. Checking asks the processor what became of it (nothing is charged or "
         "refunded by checking): made, it is recorded as succeeded with its receipt or credit "
         "note; declined or never made, as failed.")


def _reconcile(record):
    return reconcile_payment if isinstance(record, Payment) else reconcile_refund


class ReconcileActionsMixin:
    """Mixed into the Transactions and Refunds views."""

    def reconcile_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write or reconcile_refusal(row) is not None:
            return []
        back = request.full_path if has_request_context() else None
        return [MenuItem("Check with the processor", url_for(
            f"{self.endpoint}.reconcile_view", id=row.id, url=back), "fa-refresh")]

    @expose("/check-with-processor/", methods=("GET", "POST"))
    def reconcile_view(self):
        page = ActionPage.open(self, doing="reconcile payments")
        record = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: _reconcile(record)(
            record, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        refusal = reconcile_refusal(record)
        return page.render(title=f"Check {self._label(record)} with the payment processor",
                           intro=INTRO, facts=self._facts(record),
                           warnings=[refusal.message] if refusal is not None else [],
                           form=form, submit_label="Check with the processor")

    @action("check_with_processor", "Check with the processor")
    def action_check_with_processor(self, ids):
        """Check each selected record (or all matching: filter Status = Pending) at once."""
        back = back_target() or url_for(".index_view")
        try:
            rows = selection(self, ids)
        except BadRowIds as bad:
            flash(bad.message, "error")
            return redirect(back)
        key = request.form.get("idempotency_key") or new_idempotency_key()
        action = "reconcile_payment" if self.model is Payment else "reconcile_refund"
        if len(rows.ids) > current_app.config.get("BULK_INLINE_MAX", 50):
            return run_bulk_action(action, {}, rows.ids, key=key, back=back,
                                   label=f"Check {len(rows.ids)} {self.model.__tablename__}s "
                                         "with the processor")
        outcomes = []

        def check_one(record_id: int, row_key: str):
            record = db.session.get(self.model, record_id)
            if record is None:
                raise ActionError("not_found", "That record no longer exists.")
            done = _reconcile(record)(record, actor=current_user, idempotency_key=row_key)
            outcomes.append(done.record.outcome)

        run_bulk(rows.ids, check_one, bulk_key=key, done_word="checked")
        waiting = outcomes.count(Outcome.STILL_PENDING)
        if waiting:
            flash(f"{waiting} still waiting for the processor's answer: check again later.",
                  "warning")
        return redirect(back)

    @staticmethod
    def _label(record) -> str:
        return f"{'payment' if isinstance(record, Payment) else 'refund'} #{record.id}"

    @staticmethod
    def _facts(record) -> list[tuple[str, str]]:
        payment = record if isinstance(record, Payment) else record.payment
        return [("Contact", payment.contact.full_name),
                ("Amount", format_money(record.amount_minor, record.currency)),
                ("Asked at", format_datetime(record.created_at)),
                ("For", payment.description or payment.purpose.label)]
