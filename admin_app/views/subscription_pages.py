"""What every subscription action page shares (⋯ → Cancel, Upgrade, Downgrade, Apply Promo...):
the ⋯ items of a row, the page opened for ``?id=`` (back to ``?url=``, else the contact card's
Subscriptions tab), and the facts every page shows."""

from __future__ import annotations

from flask import has_request_context, request, url_for

from ..billing.cancellation import access_ends_at, cancellation_entry, undo_refusal
from ..billing.plan_change import plan_moves
from ..clinic_time import format_clinic, format_day
from ..clock import utcnow
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
        facts = [("Contact", subscription.contact.full_name),
                 ("Plan", f"{plan} · {format_money(plan.price_minor, plan.currency)} per "
                          f"{plan.interval.value}"),
                 ("Status", subscription.status.label + (
                     " · cancels at period end" if subscription.cancel_at_period_end
                     and subscription.status is not SubscriptionStatus.CANCELED else "")),
                 ("Current period", f"{format_day(subscription.current_period_start)} – "
                                    f"{format_day(subscription.current_period_end)}")]
        if is_ending(subscription):
            facts += [("Cancelled" if subscription.status is SubscriptionStatus.CANCELED
                       else "Cancellation scheduled", cancelled_when_by(subscription)),
                      access_said(subscription, format_day)]
        return facts


def access_said(subscription: Subscription, written) -> tuple[str, str]:
    """("Access ended" or "Access until", when, ``written`` by the caller): whether the
    member's access (``access_ends_at``) is over or still ahead."""
    ends = access_ends_at(subscription)
    return ("Access ended" if ends <= utcnow() else "Access until"), written(ends)


def is_ending(subscription: Subscription) -> bool:
    """Cancelled, or set to cancel at period end: its period end is when access ends."""
    return subscription.status is SubscriptionStatus.CANCELED or subscription.cancel_at_period_end


def cancelled_when_by(subscription: Subscription) -> str:
    """ "2026-12-01 09:14 EST by manager@example.com" (the audit log's entry), or when only."""
    entry = cancellation_entry(subscription)
    when = entry.created_at if entry is not None else subscription.canceled_at
    text = format_clinic(when, "%Y-%m-%d %H:%M %Z") if when else "—"
    if entry is not None:
        text += f" by {entry.actor.email if entry.actor else 'the panel (billing cycle)'}"
    return text


def period_end_formatter(view, context, row, name):
    """A subscription's period end; once it is cancelled or cancelling, when access ends
    ("access until …", or "access ended …" once past: ``access_ends_at``)."""
    if not is_ending(row):
        return format_clinic(row.current_period_end, "%Y-%m-%d %H:%M %Z")
    words, when = access_said(row, lambda ends: format_clinic(ends, "%Y-%m-%d %H:%M %Z"))
    return f"{words.lower()} {when}"


def canceled_at_formatter(view, context, row, name):
    return cancelled_when_by(row) if row.status is SubscriptionStatus.CANCELED else ""
