"""What every subscription action page shares (⋯ → Cancel, Upgrade, Downgrade, Apply Promo...):
the ⋯ items of a row, the record from ``?id=``, the way back (``?url=``, else the contact card's
Subscriptions tab), and what happens after the action ran."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin.helpers import get_redirect_target
from flask_login import current_user

from ..clock import utcnow
from ..models import Subscription, SubscriptionStatus
from ..money import format_money
from .action_forms import new_idempotency_key
from .formatting import local_time
from .row_menu import MenuItem


def format_day(moment) -> str:
    """ "01 May 2025", in the clinic's time zone."""
    return f"{local_time(moment):%d %b %Y}"


class SubscriptionPagesMixin:
    """Shared by the subscription action mixins of ``SubscriptionView``."""

    def subscription_menu_items(self, row) -> list[MenuItem]:
        """⋯ items for what this row allows and the role may do."""
        if not self.may_write or row.status is SubscriptionStatus.CANCELED:
            return []
        back = request.full_path if has_request_context() else None
        link = lambda view: url_for(f"{self.endpoint}.{view}", id=row.id, url=back)  # noqa: E731
        items = []
        if row.status is SubscriptionStatus.ACTIVE:
            items += [MenuItem("Upgrade", link("upgrade_view"), "fa-arrow-up"),
                      MenuItem("Downgrade", link("downgrade_view"), "fa-arrow-down")]
        if row.scheduled_plan_id is not None:
            items.append(MenuItem("Cancel scheduled change", link("cancel_scheduled_view"),
                                  "fa-calendar-times-o"))
        items.append(MenuItem("Apply Promo", link("apply_promo_view"), "fa-tag"))
        if row.cancel_at_period_end and utcnow() < row.current_period_end:
            items.append(MenuItem("Undo cancellation", link("undo_cancel_view"), "fa-undo"))
        items.append(MenuItem("Cancel", link("cancel_view"), "fa-ban", is_danger=True))
        return items

    def _subscription_back_url(self, subscription: Subscription) -> str:
        return get_redirect_target() or url_for("contact.details_view",
                                                id=subscription.contact_id, tab="subscriptions")

    def _open_subscription(self, doing: str):
        """(subscription, back URL, refusal response): the refusal when it is gone or the role
        may not change it."""
        subscription = self.get_one(request.args.get("id", ""))
        if subscription is None:
            flash("That subscription no longer exists.", "error")
            return None, None, redirect(url_for(".index_view"))
        back = self._subscription_back_url(subscription)
        if not self.may_write:
            flash(f"Your role ({current_user.role.label}) may not {doing}.", "error")
            return subscription, back, redirect(back)
        return subscription, back, None

    def _after_action(self, result, form, back: str):
        """Redirect back after success, a replay or a no-op (each flashed by ``perform``);
        ``None`` after a refusal (the page is shown again, with a fresh key for a deliberate
        retry)."""
        if result is None:
            form.idempotency_key.data = new_idempotency_key()
            return None
        return redirect(back)

    def _subscription_facts(self, subscription: Subscription) -> list[tuple[str, str]]:
        plan = subscription.plan
        return [("Contact", subscription.contact.full_name),
                ("Plan", f"{plan} · {format_money(plan.price_minor, plan.currency)} per "
                         f"{plan.interval.value}"),
                ("Status", subscription.status.label + (" · cancels at period end"
                                                        if subscription.cancel_at_period_end
                                                        else "")),
                ("Current period", f"{format_day(subscription.current_period_start)} – "
                                   f"{format_day(subscription.current_period_end)}")]
