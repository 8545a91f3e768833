"""Cashier → Transactions → ⋯ → Refund, and the same on the contact card's Transactions tab
(workflow 1)."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from ..actions.refund_payment import refund_payment
from ..billing.refunding import REFUNDABLE_STATUSES, pending_refunds_minor, refundable_remainder
from ..extensions import db
from ..models import Payment, RefundReason
from ..money import format_money
from .action_forms import ActionForm, new_idempotency_key, perform
from .fields import MoneyField
from .row_menu import MenuItem


class RefundForm(ActionForm):
    currency = HiddenField()
    amount = MoneyField("Amount to refund", validators=[InputRequired()],
                        description="Prefilled with everything that is left: a full refund. "
                                    "Lower it for a partial refund.")
    reason = SelectField("Reason", choices=[(r.value, r.label) for r in RefundReason],
                         default=RefundReason.REQUESTED_BY_CUSTOMER.value)
    note = TextAreaField("Note", validators=[Optional()],
                         description="Kept with the refund (required for reason “Other”).")
    reverse_credits = BooleanField("Also take back the credits this payment granted")


class RefundActionsMixin:
    """Mixed into the Transactions (payments) view."""

    details_template = "admin/model/actions_details.html"

    def details_menu_items(self, row) -> list[MenuItem]:
        """The actions shown on the record's details page."""
        return self.refund_menu_items(row)

    def refund_menu_items(self, row) -> list[MenuItem]:
        """⋯ → Refund on a payment with money left to refund, for roles that may refund."""
        if not self.may_write or row.status not in REFUNDABLE_STATUSES \
                or row.amount_refunded_minor >= row.amount_minor:
            return []
        back = request.full_path if has_request_context() else None
        return [MenuItem("Refund", url_for(f"{self.endpoint}.refund_view", id=row.id, url=back),
                         "fa-undo")]

    def _after_refund_url(self, payment: Payment) -> str:
        return get_redirect_target() or url_for("contact.details_view", id=payment.contact_id,
                                                tab="transactions")

    @expose("/refund/", methods=("GET", "POST"))
    def refund_view(self):
        payment = self.get_one(request.args.get("id", ""))
        if payment is None:
            flash("That payment no longer exists.", "error")
            return redirect(url_for(".index_view"))
        back = self._after_refund_url(payment)
        if not self.may_write:
            flash(f"Your role ({current_user.role.label}) may not refund payments.", "error")
            return redirect(back)
        form = RefundForm(currency=payment.currency, amount=refundable_remainder(payment))
        form.amount.currency = payment.currency
        if form.validate_on_submit():
            refund = perform(lambda: refund_payment(
                payment, amount_minor=form.amount.data, reason=RefundReason(form.reason.data),
                note=form.note.data, reverse_credits=form.reverse_credits.data,
                currency=form.currency.data or None, actor=current_user,
                idempotency_key=form.idempotency_key.data))
            if refund is not None:
                return redirect(back)
            # A refusal: the form stays as typed, with a fresh key for a deliberate retry
            # (a processor's "no" is on record under the old one).
            form.idempotency_key.data = new_idempotency_key()
            db.session.refresh(payment)
        return self._render_refund(payment, form, back)

    def _render_refund(self, payment: Payment, form: RefundForm, back: str):
        money = lambda amount: format_money(amount, payment.currency)  # noqa: E731
        pending = pending_refunds_minor(payment)
        facts = [("Payment", f"#{payment.id} · {payment.purpose.label}"
                  + (f" · {payment.description}" if payment.description else "")),
                 ("Contact", payment.contact.full_name),
                 ("Paid", f"{money(payment.amount_minor)} by {payment.method.label.lower()}"),
                 ("Refunded so far", money(payment.amount_refunded_minor))]
        if pending:
            facts.append(("Refunds still pending", money(pending)))
        facts.append(("Remaining", money(refundable_remainder(payment))))
        warnings = []
        if payment.status not in REFUNDABLE_STATUSES:
            warnings.append(f"This payment is {payment.status.label.lower()}: it cannot be "
                            "refunded.")
        intro = ("The refund goes back to the card through the payment processor."
                 if payment.method.value == "card" else
                 f"This payment was taken by {payment.method.label.lower()}: pay the money back "
                 "at the desk; the refund is recorded here.")
        return self.render("admin/action_form.html", title=f"Refund payment #{payment.id}",
                           intro=intro + " A credit note is issued for it.", facts=facts,
                           warnings=warnings, form=form,
                           submit_label="Refund", cancel_url=back, is_danger=True)
