"""Subscriptions → ⋯ → Cancel / Undo cancellation (also on the contact card's Subscriptions
tab), and Subscriptions list → With selected → Cancel subscriptions (workflow 2)."""

from __future__ import annotations

from flask import flash
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from wtforms import BooleanField, RadioField

from ..actions.cancel_subscription import cancel_subscription
from ..actions.undo_cancellation import undo_cancellation
from ..billing.period_credits import remaining_period_credits
from ..billing.period_money import period_payments, unused_time_refunds
from ..clinic_time import format_day
from ..clock import utcnow
from ..models import Subscription, SubscriptionStatus
from ..money import format_money
from .action_forms import ActionForm
from .bulk_pages import BulkFlow
from .subscription_pages import SubscriptionPagesMixin

NO_OP_CODES = frozenset({"already_cancelled", "cancellation_already_scheduled"})


class CancelForm(ActionForm):
    when = RadioField("When", default="now", choices=[
        ("now", "Cancel now"), ("period_end", "At period end (stays active until then)")])
    credits = RadioField("Remaining credits of the period (when cancelling now)", default="keep",
                         choices=[("keep", "Keep them until they expire"),
                                  ("remove", "Remove them now")])
    refund_unused = BooleanField("Refund the unused time of the period payment (when "
                                 "cancelling now)")

    def cancel(self, subscription: Subscription, key: str):
        return cancel_subscription(subscription, at_period_end=self.when.data == "period_end",
                                   credits=self.credits.data,
                                   refund_unused=bool(self.refund_unused.data),
                                   actor=current_user, idempotency_key=key)


CANCEL_SUBSCRIPTIONS = BulkFlow(
    name="cancel_subscriptions", form=CancelForm, noun="subscriptions",
    doing="cancel subscriptions", title="Cancel {count} subscriptions",
    intro="The same cancellation for each selected subscription; those already cancelled or "
          "refused are reported one by one.",
    submit_label="Cancel {count} subscriptions", action="cancel_subscription",
    params=lambda form: {"at_period_end": form.when.data == "period_end",
                         "credits": form.credits.data,
                         "refund_unused": bool(form.refund_unused.data)}, is_danger=True,
    keep_label="Keep the subscriptions")


class SubscriptionActionsMixin(SubscriptionPagesMixin):
    """Cancel, Undo cancellation, bulk Cancel."""

    @expose("/cancel/", methods=("GET", "POST"))
    def cancel_view(self):
        page = self.open_subscription_page("cancel subscriptions")
        sub = page.record
        if sub.status is SubscriptionStatus.CANCELED:  # when, by whom, access until
            flash(f"Subscription {sub} is already cancelled.", "info")
            return page.render("admin/action_page.html", title=f"Subscription {sub} is cancelled",
                               facts=self.subscription_facts(sub))
        form = CancelForm()
        done = page.submit(form, lambda key: form.cancel(sub, key), notices=NO_OP_CODES)
        if done is not None:
            return done
        return page.render(title=f"Cancel subscription {sub}",
                           intro="Check what cancelling does, choose, then confirm.",
                           facts=self.subscription_facts(sub) + self._cancel_effect(sub),
                           warnings=self._cancel_warnings(sub), form=form,
                           submit_label="Confirm cancellation", is_danger=True,
                           cancel_label="Keep the subscription")

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
        page = self.open_subscription_page("undo cancellations")
        sub = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: undo_cancellation(
            sub, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"Undo cancellation of {sub}",
                           intro="The subscription will renew as usual instead of ending at "
                                 "its period end.",
                           facts=self.subscription_facts(sub), form=form,
                           submit_label="Undo cancellation", cancel_label="Keep the cancellation")

    @action("cancel_subscriptions", "Cancel subscriptions")
    def action_cancel_subscriptions(self, ids):
        return self.bulk_page(CANCEL_SUBSCRIPTIONS, ids)
