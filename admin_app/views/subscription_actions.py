"""Subscriptions → ⋯ → Cancel / Undo cancellation (also on the contact card's Subscriptions
tab), and Subscriptions list → With selected → Cancel subscriptions (workflow 2)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from wtforms import BooleanField, HiddenField, RadioField

from ..actions.cancel_subscription import cancel_subscription
from ..actions.undo_cancellation import undo_cancellation
from ..billing.period_credits import remaining_period_credits
from ..billing.period_money import period_payments, unused_time_refunds
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Subscription, SubscriptionStatus
from ..money import format_money
from .action_forms import ActionForm, perform
from .bulk import run_bulk, selected_ids
from .subscription_pages import SubscriptionPagesMixin, format_day

NO_OP_CODES = frozenset({"already_cancelled", "cancellation_already_scheduled"})


class CancelForm(ActionForm):
    when = RadioField("When", default="now", choices=[
        ("now", "Cancel now"), ("period_end", "At period end (stays active until then)")])
    credits = RadioField("Remaining credits of the period (when cancelling now)", default="keep",
                         choices=[("keep", "Keep them until they expire"),
                                  ("remove", "Remove them now")])
    refund_unused = BooleanField("Refund the unused time of the period payment (when "
                                 "cancelling now)")


class BulkCancelForm(CancelForm):
    subscription_ids = HiddenField()


class SubscriptionActionsMixin(SubscriptionPagesMixin):
    """Cancel, Undo cancellation, bulk Cancel."""

    @expose("/cancel/", methods=("GET", "POST"))
    def cancel_view(self):
        sub, back, refusal = self._open_subscription("cancel subscriptions")
        if refusal is not None:
            return refusal
        if sub.status is SubscriptionStatus.CANCELED:
            flash(f"Subscription {sub} is already cancelled.", "info")
            return redirect(back)
        form = CancelForm()
        if form.validate_on_submit():
            result = perform(lambda: self._cancel_one(sub, form, form.idempotency_key.data),
                             notices=NO_OP_CODES)
            response = self._after_action(result, form, back)
            if response is not None:
                return response
            db.session.refresh(sub)
        return self.render("admin/action_form.html", title=f"Cancel subscription {sub}",
                           intro="Check what cancelling does, choose, then confirm.",
                           facts=self._subscription_facts(sub) + self._cancel_effect(sub),
                           warnings=self._cancel_warnings(sub), form=form,
                           submit_label="Confirm cancellation", cancel_url=back, is_danger=True)

    @staticmethod
    def _cancel_one(subscription, form, key):
        return cancel_subscription(subscription, at_period_end=form.when.data == "period_end",
                                   credits=form.credits.data,
                                   refund_unused=bool(form.refund_unused.data),
                                   actor=current_user, idempotency_key=key)

    def _cancel_effect(self, sub: Subscription) -> list[tuple[str, str]]:
        """What each choice does, before it happens."""
        removable = remaining_period_credits(sub)
        payments = period_payments(sub)
        refunds = unused_time_refunds(sub, payments, at=utcnow())
        money = "; ".join(f"{format_money(r.amount_minor, r.payment.currency)} of payment "
                          f"#{r.payment.id} ({r.share.describe()} unused)" for r in refunds) \
            or ("nothing left to refund" if payments
                else "nothing: no payment for the current period")
        return [("Cancel now", f"Status becomes Cancelled today ({format_day(utcnow())})."),
                ("At period end", f"Stays Active until {format_day(sub.current_period_end)}, then "
                                  "Cancelled; can be undone until then."),
                ("Credits “Remove” takes away", ", ".join(
                    f"{service}: {left}" for service, left in removable.items()) or "none"),
                ("Refund of unused time", money)]

    @staticmethod
    def _cancel_warnings(sub: Subscription) -> list[str]:
        warnings = []
        if sub.cancel_at_period_end:
            warnings.append("Already set to cancel at period end "
                            f"({format_day(sub.current_period_end)}): choose Cancel now to end "
                            "it at once.")
        if sub.scheduled_plan is not None:
            warnings.append(f"Cancelling now drops the scheduled change to {sub.scheduled_plan}.")
        return warnings

    @expose("/undo-cancel/", methods=("GET", "POST"))
    def undo_cancel_view(self):
        sub, back, refusal = self._open_subscription("undo cancellations")
        if refusal is not None:
            return refusal
        form = ActionForm()
        if form.validate_on_submit():
            result = perform(lambda: undo_cancellation(
                sub, actor=current_user, idempotency_key=form.idempotency_key.data))
            response = self._after_action(result, form, back)
            if response is not None:
                return response
        return self.render("admin/action_form.html", title=f"Undo cancellation of {sub}",
                           intro="The subscription will renew as usual instead of ending at "
                                 "its period end.",
                           facts=self._subscription_facts(sub), form=form,
                           submit_label="Undo cancellation", cancel_url=back)

    @action("cancel_subscriptions", "Cancel subscriptions")
    def action_cancel_subscriptions(self, ids):
        ticked = selected_ids(self, ids)
        form = BulkCancelForm(formdata=None, subscription_ids=",".join(map(str, ticked)))
        return self._render_bulk_cancel(form, len(ticked))

    def _render_bulk_cancel(self, form, count: int):
        return self.render("admin/action_form.html", title=f"Cancel {count} subscriptions",
                           intro="The same cancellation for each selected subscription; those "
                                 "already cancelled or refused are reported one by one.",
                           facts=[], form=form, submit_label=f"Cancel {count} subscriptions",
                           form_action=url_for(".cancel_bulk_view"),
                           cancel_url=url_for(".index_view"), is_danger=True)

    @expose("/cancel-bulk/", methods=("POST",))
    def cancel_bulk_view(self):
        form = BulkCancelForm()
        ids = [int(i) for i in (form.subscription_ids.data or "").split(",") if i.strip()]
        if not form.validate_on_submit():
            return self._render_bulk_cancel(form, len(ids))

        def cancel_one(subscription_id: int, key: str):
            subscription = db.session.get(Subscription, subscription_id)
            if subscription is None:
                raise ActionError("not_found", "That subscription no longer exists.")
            return cancel_subscription(
                subscription, at_period_end=form.when.data == "period_end",
                credits=form.credits.data, refund_unused=bool(form.refund_unused.data),
                actor=current_user, idempotency_key=key)

        run_bulk(ids, cancel_one, bulk_key=form.idempotency_key.data, done_word="cancelled")
        return redirect(url_for(".index_view"))
