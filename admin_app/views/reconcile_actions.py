"""Cashier → Transactions / Refunds → ⋯ → Check with the processor, on a payment or refund
kept pending because the processor did not answer (``billing.reconciling``)."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_login import current_user

from ..actions.reconcile_payment import reconcile_payment
from ..actions.reconcile_refund import reconcile_refund
from ..billing.reconciling import Outcome
from ..errors import ActionError
from ..extensions import db
from ..models import Payment, PaymentMethodKind, PaymentStatus, Refund, RefundStatus
from ..money import format_money
from .action_forms import ActionForm, new_idempotency_key, perform
from .bulk import run_bulk, selected_ids
from .formatting import format_datetime
from .row_menu import MenuItem

INTRO = ("The payment processor did not answer when it was asked, so this record was kept "
         "pending. Checking asks the processor what became of it (nothing is charged or "
         "refunded by checking): made, it is recorded as succeeded with its receipt or credit "
         "note; declined or never made, as failed.")


def is_unsettled(row) -> bool:
    """A record still waiting for the processor's answer."""
    if isinstance(row, Payment):
        return row.status is PaymentStatus.PENDING and row.method is PaymentMethodKind.CARD
    return isinstance(row, Refund) and row.status is RefundStatus.PENDING


class ReconcileActionsMixin:
    """Mixed into the Transactions and Refunds views."""

    def reconcile_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write or not is_unsettled(row):
            return []
        back = request.full_path if has_request_context() else None
        return [MenuItem("Check with the processor", url_for(
            f"{self.endpoint}.reconcile_view", id=row.id, url=back), "fa-refresh")]

    @expose("/check-with-processor/", methods=("GET", "POST"))
    def reconcile_view(self):
        record = self.get_one(request.args.get("id", ""))
        back = get_redirect_target() or url_for(".index_view")
        if record is None:
            flash("That record no longer exists.", "error")
            return redirect(back)
        if not self.may_write:
            flash(f"Your role ({current_user.role.label}) may not reconcile payments.", "error")
            return redirect(back)
        form = ActionForm()
        if form.validate_on_submit():
            reconcile = reconcile_payment if isinstance(record, Payment) else reconcile_refund
            done = perform(lambda: reconcile(record, actor=current_user,
                                             idempotency_key=form.idempotency_key.data))
            if done is not None:
                return redirect(back)
            form.idempotency_key.data = new_idempotency_key()
        return self.render("admin/action_form.html", title=f"Check {self._label(record)} with "
                                                           "the payment processor",
                           intro=INTRO, facts=self._facts(record),
                           warnings=[] if is_unsettled(record) else
                           [f"{self._label(record)} is already {record.status.label.lower()}."],
                           form=form, submit_label="Check with the processor", cancel_url=back)

    @action("check_with_processor", "Check with the processor")
    def action_check_with_processor(self, ids):
        """Check each selected record (or all matching: filter Status = Pending) at once."""
        reconcile = reconcile_payment if self.model is Payment else reconcile_refund
        outcomes = []

        def check_one(record_id: int, key: str):
            record = db.session.get(self.model, record_id)
            if record is None:
                raise ActionError("not_found", "That record no longer exists.")
            done = reconcile(record, actor=current_user, idempotency_key=key)
            outcomes.append(done.record.outcome)

        run_bulk(selected_ids(self, ids), check_one,
                 bulk_key=request.form.get("idempotency_key") or new_idempotency_key(),
                 done_word="checked")
        waiting = outcomes.count(Outcome.STILL_PENDING)
        if waiting:
            flash(f"{waiting} still waiting for the processor's answer: check again later.",
                  "warning")
        return redirect(get_redirect_target() or url_for(".index_view"))

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
