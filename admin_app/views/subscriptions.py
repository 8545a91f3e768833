"""Subscriptions and Appointments: the two top-level menus."""

from __future__ import annotations

from .base import AppModelView
from .no_show_actions import NoShowActionsMixin
from .plan_change_actions import PlanChangeActionsMixin
from .promo_actions import PromoActionsMixin
from .subscription_actions import SubscriptionActionsMixin

CONTACT_LOOKUP = {"fields": ("first_name", "last_name", "email", "phone"), "page_size": 20,
                  "placeholder": "Type a name, email or phone"}


class SubscriptionView(SubscriptionActionsMixin, PlanChangeActionsMixin, PromoActionsMixin,
                       AppModelView):
    column_list = ["id", "contact", "plan", "status", "current_period_start",
                   "current_period_end", "cancel_at_period_end", "scheduled_plan", "promo_code"]
    column_filters = ["status", "plan.name", "current_period_end", "cancel_at_period_end",
                      "promo_code.code"]
    column_searchable_list = ["contact.last_name", "contact.email"]
    column_sortable_list = ["id", ("contact", "contact.last_name"), ("plan", "plan.name"),
                            "status", "current_period_start", "current_period_end"]
    column_labels = {"current_period_start": "Period start", "current_period_end": "Period end",
                     "cancel_at_period_end": "Cancels at period end",
                     "scheduled_plan": "Scheduled plan change", "promo_code": "Promo code",
                     "gateway_id": "Gateway ID", "plan.name": "Plan",
                     "promo_code.code": "Promo code", "contact.last_name": "Contact"}
    form_columns = ["contact", "plan", "status", "current_period_start", "current_period_end",
                    "promo_code"]
    column_details_list = ["id", "contact", "plan", "status", "current_period_start",
                           "current_period_end", "cancel_at_period_end", "canceled_at",
                           "scheduled_plan", "promo_code", "promo_periods_left", "gateway_id",
                           "created_at", "updated_at"]
    form_ajax_refs = {"contact": CONTACT_LOOKUP}
    search_hint = "Contact last name or email"

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.subscription_menu_items(row)]


class AppointmentView(NoShowActionsMixin, AppModelView):
    column_list = ["id", "contact", "service", "starts_at", "status", "no_show_fee_status",
                   "no_show_fee_payment"]
    column_filters = ["status", "no_show_fee_status", "starts_at", "service.name"]
    column_searchable_list = ["contact.last_name", "contact.email"]
    column_sortable_list = ["id", ("contact", "contact.last_name"), "starts_at", "status"]
    column_default_sort = ("starts_at", True)
    column_labels = {"starts_at": "Time", "no_show_fee_status": "No-show fee",
                     "no_show_fee_payment": "Fee payment", "service.name": "Service",
                     "no_show_waive_reason": "Waive reason", "contact.last_name": "Contact"}
    form_columns = ["contact", "service", "starts_at", "status", "notes"]
    form_ajax_refs = {"contact": CONTACT_LOOKUP}
    search_hint = "Contact last name or email"

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.no_show_menu_items(row)]
