"""What every subscription action page shares (⋯ → Cancel, Upgrade, Downgrade, Apply Promo...):
the ⋯ items of a row, the page opened for ``?id=`` (back to ``?url=``, else the contact card's
Subscriptions tab), and the facts every page shows."""

from __future__ import annotations

from flask import has_request_context, request, url_for

from ..billing.cancellation import undo_refusal
from ..billing.plan_change import plan_moves
from ..clinic_time import format_day
from ..models import Subscription, SubscriptionStatus
from ..money import format_money
from .action_pages import ActionPage, contact_tab
from .row_menu import MenuItem


class SubscriptionPagesMixin:
    """Shared by the subscription action mixins of ``SubscriptionView``."""

    def subscription_menu_items(self, row) -> list[MenuItem]:
        """⋯ items for what this row allows and the role may do."""
        if not self.may_write or row.status is SubscriptionStatus.CANCELED:
            return []
        back = request.full_path if has_request_context() else None
        link = lambda view: url_for(f"{self.endpoint}.{view}", id=row.id, url=back)  # noqa: E731
        items = []
        can_upgrade, can_downgrade = plan_moves(row)  # none on the top / cheapest plan
        if can_upgrade:
            items.append(MenuItem("Upgrade", link("upgrade_view"), "fa-arrow-up"))
        if can_downgrade:
            items.append(MenuItem("Downgrade", link("downgrade_view"), "fa-arrow-down"))
        if row.scheduled_plan_id is not None:
            items.append(MenuItem("Cancel scheduled change", link("cancel_scheduled_view"),
                                  "fa-calendar-times-o"))
        items.append(MenuItem("Apply Promo", link("apply_promo_view"), "fa-tag"))
        if undo_refusal(row) is None:
            items.append(MenuItem("Undo cancellation", link("undo_cancel_view"), "fa-undo"))
        items.append(MenuItem("Cancel", link("cancel_view"), "fa-ban", is_danger=True))
        return items

    def open_subscription_page(self, doing: str) -> ActionPage:
        return ActionPage.open(self, doing=doing, back=contact_tab("subscriptions"))

    @staticmethod
    def subscription_facts(subscription: Subscription) -> list[tuple[str, str]]:
        plan = subscription.plan
        return [("Contact", subscription.contact.full_name),
                ("Plan", f"{plan} · {format_money(plan.price_minor, plan.currency)} per "
                         f"{plan.interval.value}"),
                ("Status", subscription.status.label + (" · cancels at period end"
                                                        if subscription.cancel_at_period_end
                                                        else "")),
                ("Current period", f"{format_day(subscription.current_period_start)} – "
                                   f"{format_day(subscription.current_period_end)}")]
