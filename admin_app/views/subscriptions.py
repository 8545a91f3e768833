"""Subscriptions and Appointments: the two top-level menus.

A subscription is started with "Subscribe to a plan" (``actions.subscribe_to_plan``: the first
payment, the first period, its credits and receipt): Subscriptions → Create picks the contact,
the plan and a promo code, then opens that action's page for the contact, prefilled. It
changes afterwards only through its actions: its status, period, plan, cancellation, scheduled
change and promo code are shown on the edit form, not edited there.
"""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import expose
from sqlalchemy import select
from wtforms import HiddenField

from ..billing.no_show_rules import check_fee_still_open
from ..errors import ActionError
from ..extensions import db
from ..models import Plan
from .action_forms import new_idempotency_key
from .appointment_credit_actions import AppointmentCreditActionsMixin
from .base import AppModelView
from .bulk_pages import BulkPagesMixin
from .no_show_actions import CHARGE_NO_SHOW_FEES, NoShowActionsMixin
from .plan_change_actions import PlanChangeActionsMixin
from .promo_actions import APPLY_PROMO, PromoActionsMixin, PromoPickerField
from .renewal_columns import (
    RENEWAL_COLUMNS,
    RENEWAL_EXPORT_FORMATTERS,
    RENEWAL_FORMATTERS,
    RENEWAL_LABELS,
)
from .subscription_actions import CANCEL_SUBSCRIPTIONS, SubscriptionActionsMixin
from .subscription_pages import canceled_at_formatter, period_end_formatter

CONTACT_LOOKUP = {"fields": ("first_name", "last_name", "email", "phone"), "page_size": 20,
                  "placeholder": "Choose a contact"}
# Chosen when creating; afterwards changed by the actions only.
CREATE_ONLY_FIELDS = ("plan", "promo_code", "idempotency_key")
# Shown read-only on the edit form (admin/model/subscription_edit.html).
READ_ONLY_COLUMNS = ("plan", "status", "current_period_start", "current_period_end",
                     "cancel_at_period_end", "canceled_at", "scheduled_plan", "promo_code",
                     "promo_periods_left")


def _active_plans():
    return db.session.scalars(select(Plan).where(Plan.is_active.is_(True)).order_by(Plan.name))


class SubscriptionView(SubscriptionActionsMixin, PlanChangeActionsMixin, PromoActionsMixin,
                       BulkPagesMixin, AppModelView):
    # The period's start is on the record's page; the list keeps to what comes next.
    column_list = ["id", "contact", "plan", "status", "current_period_end", *RENEWAL_COLUMNS,
                   "cancel_at_period_end",
                   "scheduled_plan", "promo_code"]
    column_formatters_export = RENEWAL_EXPORT_FORMATTERS
    column_filters = ["status", "plan.name", "current_period_end", "cancel_at_period_end",
                      "promo_code.code"]
    column_searchable_list = ["contact.last_name", "contact.email"]
    contact_search_column = "contact_id"
    column_sortable_list = ["id", ("contact", "contact.last_name"), ("plan", "plan.name"),
                            "status", "current_period_start", "current_period_end"]
    column_labels = {"current_period_start": "Period start", "current_period_end": "Period end",
                     "cancel_at_period_end": "Cancels at period end",
                     "canceled_at": "Cancelled",
                     "scheduled_plan": "Scheduled plan change", "promo_code": "Promo code",
                     "gateway_id": "Gateway ID", "plan.name": "Plan",
                     "promo_code.code": "Promo code", "contact.last_name": "Contact",
                     **RENEWAL_LABELS}
    form_columns = ["contact", "plan", "promo_code", "idempotency_key"]
    form_overrides = {"promo_code": PromoPickerField}
    form_args = {"plan": {"query_factory": _active_plans},
                 "promo_code": {"description": "Optional. Checked by the Apply Promo rules; "
                                               "if a rule refuses it, nothing is created."}}
    form_extra_fields = {"idempotency_key": HiddenField(default=new_idempotency_key)}
    column_details_list = ["id", "contact", "plan", "status", "current_period_start",
                           "current_period_end", "cancel_at_period_end", "canceled_at",
                           "scheduled_plan", "promo_code", "promo_periods_left", "gateway_id",
                           "created_at", "updated_at"]
    column_formatters = {**RENEWAL_FORMATTERS, "current_period_end": period_end_formatter,
                         "canceled_at": canceled_at_formatter}
    form_ajax_refs = {"contact": CONTACT_LOOKUP}
    create_template = "admin/model/subscription_create.html"
    edit_template = "admin/model/subscription_edit.html"
    bulk_flows = (CANCEL_SUBSCRIPTIONS, APPLY_PROMO)

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.subscription_menu_items(row)]

    def get_edit_form(self):
        """Only the contact is corrected by hand; the rest changes through actions."""
        form_class = super().get_edit_form()
        for name in CREATE_ONLY_FIELDS:
            if hasattr(form_class, name):
                delattr(form_class, name)
        return form_class

    def read_only_facts(self, subscription) -> list[tuple[str, str]]:
        return [(self.get_column_name(name),
                 self._get_list_value(None, subscription, name, self.column_formatters_detail,
                                      self.column_type_formatters_detail))
                for name in READ_ONLY_COLUMNS]

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """The contact, plan and promo code chosen here go on to the contact's "Subscribe to
        a plan" page (start, first payment, review): nothing is created before it confirms."""
        if request.method == "POST" and self.can_create:
            form = self.create_form()
            if self.validate_form(form):
                promo = form.promo_code.data
                return redirect(url_for("contact.subscribe_view", id=form.contact.data.id,
                                        plan=form.plan.data.id,
                                        promo=promo.code if promo is not None else None))
        return super().create_view()

    def create_model(self, form):  # pragma: no cover - create_view never gets here
        return False


class AppointmentView(AppointmentCreditActionsMixin, NoShowActionsMixin, BulkPagesMixin,
                      AppModelView):
    """Appointments. Booked through Create (``book_appointment``); attended, cancelled,
    no-show and charged through the ⋯ actions, never by editing the status."""

    column_list = ["id", "contact", "service", "starts_at", "status", "credit_status",
                   "no_show_fee_status", "no_show_fee_payment"]
    column_filters = ["status", "credit_status", "no_show_fee_status", "starts_at",
                      "service.name"]
    column_searchable_list = ["contact.last_name", "contact.email"]
    contact_search_column = "contact_id"
    column_sortable_list = ["id", ("contact", "contact.last_name"), "starts_at", "status"]
    column_default_sort = ("starts_at", True)
    column_labels = {"starts_at": "Time", "no_show_fee_status": "No-show fee",
                     "no_show_fee_payment": "Fee payment", "service.name": "Service",
                     "no_show_waive_reason": "Waive reason", "contact.last_name": "Contact",
                     "credit_status": "Credit", "credit_payment": "Charge (no credit)"}
    form_columns = ["contact", "service", "starts_at", "notes"]
    form_extra_fields = {"idempotency_key": HiddenField(default=new_idempotency_key)}
    form_ajax_refs = {"contact": CONTACT_LOOKUP}
    bulk_flows = (CHARGE_NO_SHOW_FEES,)

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.credit_menu_items(row),
                *self.no_show_menu_items(row)]

    def details_menu_items(self, row):
        return [*self.credit_menu_items(row), *self.no_show_menu_items(row)]

    def get_edit_form(self):
        """The booking's details are corrected by hand; its status changes through actions."""
        form_class = super().get_edit_form()
        if hasattr(form_class, "idempotency_key"):
            delattr(form_class, "idempotency_key")
        return form_class

    def is_record_editable(self, row) -> bool:
        """An appointment whose no-show fee was charged, waived or is being charged keeps what
        the fee was for (``no_show_rules.check_fee_still_open``)."""
        try:
            check_fee_still_open(row)
        except ActionError:
            return False
        return True
