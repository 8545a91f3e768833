"""Cashier: Transactions, Refunds, Accounting documents, plus the card and credit ledgers.

Payments, refunds, payment methods and credit entries change only through actions: here they
are read-only. Documents are editable while they are drafts, immutable once issued.
"""

from __future__ import annotations

from .base import AppModelView
from .document_view import DocumentView
from .formatting import money_or_blank_formatter
from .payment_method_actions import PaymentMethodActionsMixin
from .reconcile_actions import ReconcileActionsMixin
from .refund_actions import RefundActionsMixin
from .retry_actions import RetryActionsMixin


class ReadOnlyView(AppModelView):
    """A ledger of records written only by business actions."""

    allow_create = False
    allow_edit = False
    allow_delete = False


class PaymentView(RefundActionsMixin, RetryActionsMixin, ReconcileActionsMixin, ReadOnlyView):
    column_list = ["id", "created_at", "contact", "amount_minor", "status",
                   "amount_refunded_minor", "purpose", "method", "description", "failure_reason"]
    column_formatters = {"amount_refunded_minor": money_or_blank_formatter}
    column_filters = ["status", "purpose", "method", "created_at", "amount_minor", "currency",
                      "gateway_id"]
    column_searchable_list = ["contact.last_name", "contact.email", "gateway_id", "description"]
    contact_search_column = "contact_id"
    exact_search_columns = ("gateway_id",)
    column_sortable_list = ["id", "created_at", "amount_minor", "status", "purpose"]
    column_labels = {"amount_minor": "Amount", "amount_refunded_minor": "Refunded",
                     "gateway_id": "Gateway ID", "paid_at": "Paid at", "created_at": "Date",
                     "failure_reason": "Failure reason", "contact.last_name": "Contact",
                     "contact.email": "Contact email"}
    column_details_exclude_list = ["idempotency_key"]
    column_export_exclude_list = ["idempotency_key"]

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.details_menu_items(row)]

    def details_menu_items(self, row):
        return [*self.refund_menu_items(row), *self.retry_menu_items(row),
                *self.reconcile_menu_items(row)]


class RefundView(ReconcileActionsMixin, ReadOnlyView):
    column_list = ["id", "created_at", "payment", "amount_minor", "reason", "status",
                   "issued_by", "note"]
    column_filters = ["status", "reason", "created_at", "amount_minor"]
    column_searchable_list = ["note", "gateway_id"]
    column_labels = {"amount_minor": "Amount", "issued_by": "Issued by",
                     "gateway_id": "Gateway ID", "created_at": "Date"}
    column_details_exclude_list = ["idempotency_key"]
    column_export_exclude_list = ["idempotency_key"]
    details_template = "admin/model/actions_details.html"

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.details_menu_items(row)]

    def details_menu_items(self, row):
        return self.reconcile_menu_items(row)


class PaymentMethodView(PaymentMethodActionsMixin, ReadOnlyView):
    column_list = ["id", "contact", "display_name", "expiry", "is_default", "gateway_id"]
    column_filters = ["brand", "is_default", "exp_year"]
    column_searchable_list = ["last4", "gateway_id", "contact.last_name"]
    contact_search_column = "contact_id"
    exact_search_columns = ("gateway_id", "last4")
    column_labels = {"last4": "Last 4", "exp_month": "Exp. month", "exp_year": "Exp. year",
                     "display_name": "Card", "expiry": "Expires",
                     "is_default": "Default", "gateway_id": "Gateway ID",
                     "contact.last_name": "Contact"}

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.payment_method_menu_items(row)]


class CreditEntryView(ReadOnlyView):
    column_list = ["id", "created_at", "contact", "service", "quantity", "reason", "note",
                   "expires_at", "created_by"]
    column_filters = ["reason", "service.name", "created_at", "expires_at"]
    column_searchable_list = ["contact.last_name", "note"]
    contact_search_column = "contact_id"
    column_labels = {"created_by": "By", "expires_at": "Expires", "created_at": "Date",
                     "service.name": "Service", "contact.last_name": "Contact"}
    column_default_sort = ("created_at", True)


class AccountCreditEntryView(ReadOnlyView):
    """Cashier → Account credit: every line of every contact's account credit."""

    column_list = ["id", "created_at", "contact", "amount_minor", "reason", "note", "payment",
                   "refund", "actor"]
    column_filters = ["reason", "currency", "created_at"]
    column_searchable_list = ["contact.last_name", "note"]
    column_labels = {"amount_minor": "Amount", "actor": "By", "created_at": "Date",
                     "contact.last_name": "Contact"}
    column_default_sort = ("created_at", True)


__all__ = ["PaymentView", "RefundView", "PaymentMethodView", "CreditEntryView",
           "AccountCreditEntryView", "DocumentView"]
