"""Directories: Contacts, Services, Subscription plans, Promo codes."""

from __future__ import annotations

from flask import g
from flask_admin import expose
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup, escape
from wtforms import SelectField, ValidationError

from ..contacts_search import contact_search_condition
from ..models import DiscountDuration, DiscountType, PlanService
from .account_credit_actions import AccountCreditActionsMixin
from .base import AppModelView
from .bulk_pages import BulkPagesMixin
from .charge_actions import ChargeActionsMixin
from .credit_actions import ADJUST_CREDITS, CreditActionsMixin
from .formatting import details_link_formatter
from .invitation_bulk import SEND_PLAN_INVITATIONS, InvitationBulkMixin
from .plan_link import PlanLinkMixin
from .row_menu import MenuItem
from .subscribe_actions import SubscribeActionsMixin


class ContactView(ChargeActionsMixin, CreditActionsMixin, AccountCreditActionsMixin,
                  SubscribeActionsMixin, InvitationBulkMixin, BulkPagesMixin, AppModelView):
    """Contacts (members, clients, patients). A contact's details page is the contact card."""

    column_list = ["id", "first_name", "last_name", "email", "phone", "status", "created_at"]
    column_searchable_list = ["first_name", "last_name", "email", "phone"]
    column_filters = ["status", "created_at", "stripe_customer_id"]
    column_sortable_list = ["id", "first_name", "last_name", "email", "status", "created_at"]
    # People who share a last name, by first name (the order of ``ix_contact_name``).
    sort_ties_by = {"last_name": ("first_name",)}
    column_formatters = {"first_name": details_link_formatter,
                         "last_name": details_link_formatter}
    column_labels = {"stripe_customer_id": "Stripe customer ID", "created_at": "Added",
                     "preferred_channel": "Preferred channel",
                     "email_opt_out": "No invitations by email",
                     "sms_opt_out": "No invitations by SMS"}
    form_columns = ["first_name", "last_name", "email", "phone", "status", "notes",
                    "preferred_channel", "email_opt_out", "sms_opt_out"]
    form_overrides = {"preferred_channel": SelectField}
    form_args = {"preferred_channel": {
        "choices": [("", "—"), ("email", "Email"), ("sms", "SMS")],
        "coerce": lambda value: value or None,
        "description": "How documents are sent when the contact's own choice applies "
                       "(Send selected). Receipts and invoices are sent whatever the "
                       "opt-outs; invitations respect them."}}
    column_details_list = ["id", "first_name", "last_name", "email", "phone", "status",
                           "stripe_customer_id", "notes", "created_at", "updated_at"]
    details_template = "admin/contact_card.html"
    search_hint = "Name, email or phone"
    bulk_flows = (ADJUST_CREDITS, SEND_PLAN_INVITATIONS)

    @expose("/details/")
    def details_view(self):
        from .contact_card import render_contact_card

        return render_contact_card(self)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """A page of a search in the list's own order (newest first, nothing filtered) needs
        only the newest matches up to the page's end: ``_apply_search`` is told how many."""
        in_id_order = sort_column is None and not filters and execute and page_size != 0
        size = page_size or self.page_size
        g.contact_search_newest = (page + 1) * size if in_id_order and size else None
        try:
            return super().get_list(page, sort_column, sort_desc, search, filters,
                                    execute=execute, page_size=page_size)
        finally:
            g.contact_search_newest = None

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """The list's search box finds contacts like the top bar does (and uses its indexes);
        the count counts every match, the page reads only the newest it shows."""
        condition = contact_search_condition(search)
        if condition is not None:
            page = contact_search_condition(search, newest=g.get("contact_search_newest"))
            query = query.filter(page)
            count_query = count_query.filter(condition) if count_query is not None else None
        return query, count_query, joins, count_joins

    def row_menu_items(self, row):
        items = super().row_menu_items(row)
        items[0] = MenuItem("Open contact card", items[0].url, "fa-id-card")
        return items


class ServiceView(AppModelView):
    column_list = ["id", "name", "duration_minutes", "price_minor", "is_active"]
    column_formatters = {"name": details_link_formatter}
    column_searchable_list = ["name"]
    column_filters = ["is_active", "price_minor"]
    column_labels = {"duration_minutes": "Duration (min)", "price_minor": "Price"}
    form_columns = ["name", "description", "duration_minutes", "price_minor", "currency",
                    "is_active"]


class PlanServiceInline(InlineFormAdmin):
    form_columns = ["id", "service", "credits_per_period"]
    form_label = "Service"
    column_labels = {"credits_per_period": "Credits per period"}


class PlanView(PlanLinkMixin, AppModelView):
    """Subscription plans: price per interval, the one-time activation fee, and the services
    (with credits per period) edited inline."""

    column_list = ["id", "name", "price_minor", "interval", "activation_fee_minor",
                   "max_members", "is_active"]
    column_searchable_list = ["name"]
    column_filters = ["is_active", "interval", "price_minor", "currency"]
    column_labels = {"price_minor": "Price", "activation_fee_minor": "One time activation fee",
                     "interval_count": "Every (intervals)", "max_members": "Max members",
                     "services": "Services (credits per period)",
                     "is_public_link_enabled": "Subscription link enabled",
                     "unused_credits": "Unused credits at period end"}
    form_columns = ["name", "description", "price_minor", "currency", "interval",
                    "interval_count", "activation_fee_minor", "max_members", "is_active",
                    "unused_credits", "services"]
    column_details_list = ["id", "name", "description", "price_minor", "currency", "interval",
                           "interval_count", "activation_fee_minor", "max_members", "is_active",
                           "unused_credits", "services", "is_public_link_enabled", "created_at"]
    inline_models = [PlanServiceInline(PlanService)]
    column_formatters = {
        "name": details_link_formatter,
        "services": lambda v, c, row, n: Markup("<br>".join(escape(str(s)) for s in row.services)),
    }
    details_template = "admin/model/plan_details.html"

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), self.plan_link_menu_item(row)]


class PromoCodeView(AppModelView):
    column_list = ["id", "code", "discount_type", "percent_off", "amount_off_minor", "duration",
                   "duration_months", "expires_at", "times_redeemed", "max_redemptions",
                   "is_active"]
    column_searchable_list = ["code", "description"]
    column_formatters = {"code": details_link_formatter}
    column_filters = ["is_active", "discount_type", "duration", "expires_at"]
    column_labels = {"amount_off_minor": "Amount off", "percent_off": "Percent off",
                     "duration_months": "Months", "plans": "Allowed plans (none = all)",
                     "times_redeemed": "Redeemed", "max_redemptions": "Max redemptions"}
    form_columns = ["code", "description", "discount_type", "percent_off", "amount_off_minor",
                    "currency", "duration", "duration_months", "expires_at", "max_redemptions",
                    "plans", "is_active"]

    def on_model_change(self, form, model, is_created):
        """A percent code has 1–100 % off and no amount; an amount code has an amount and its
        currency; only a "N months" code has a number of months."""
        model.code = (model.code or "").strip().upper()
        if model.discount_type is DiscountType.PERCENT:
            if not model.percent_off or not 1 <= model.percent_off <= 100:
                raise ValidationError("A percent code needs a percent off between 1 and 100.")
            model.amount_off_minor = None
            model.currency = None
        else:
            if not model.amount_off_minor or not model.currency:
                raise ValidationError("An amount code needs an amount off and a currency.")
            model.percent_off = None
        if model.duration is DiscountDuration.REPEATING:
            if not model.duration_months or model.duration_months < 1:
                raise ValidationError("A \"N months\" code needs the number of months.")
        else:
            model.duration_months = None
        super().on_model_change(form, model, is_created)
