"""Cashier: Transactions, Refunds, Accounting documents, plus the card and credit ledgers.

Payments, refunds, payment methods and credit entries change only through actions: here they
are read-only. Documents are editable while they are drafts, immutable once issued.
"""

from __future__ import annotations

from wtforms import ValidationError

from ..models import DocumentLine, DocumentStatus
from .base import AppModelView, MoneyInlineForm
from .document_actions import DocumentActionsMixin
from .formatting import money_or_blank_formatter
from .payment_method_actions import PaymentMethodActionsMixin
from .reconcile_actions import ReconcileActionsMixin
from .refund_actions import RefundActionsMixin
from .retry_actions import RetryActionsMixin
from .subscriptions import CONTACT_LOOKUP


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
    column_sortable_list = ["id", "created_at", "amount_minor", "status", "purpose"]
    column_labels = {"amount_minor": "Amount", "amount_refunded_minor": "Refunded",
                     "gateway_id": "Gateway ID", "paid_at": "Paid at", "created_at": "Date",
                     "failure_reason": "Failure reason", "contact.last_name": "Contact",
                     "contact.email": "Contact email"}
    column_details_exclude_list = ["idempotency_key"]
    column_export_exclude_list = ["idempotency_key"]
    search_hint = "Contact, gateway ID or description"

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


MAX_QUANTITY = 10_000  # a line's quantity: far beyond any bill, its total within a bigint


class DocumentLineInline(MoneyInlineForm):
    form_columns = ["id", "description", "quantity", "unit_amount_minor"]
    money_labels = {"unit_amount_minor": "Unit price"}


class DocumentView(DocumentActionsMixin, AppModelView):
    """Accounting documents. Drafts are edited here; issuing numbers them and freezes them."""

    column_list = ["id", "doc_type", "number", "contact", "total_minor", "status",
                   "issued_at", "sent_at", "sent_channel"]
    column_filters = ["doc_type", "status", "issued_at", "sent_channel", "total_minor"]
    column_searchable_list = ["contact.last_name", "contact.email"]
    column_sortable_list = ["id", "doc_type", "number", "total_minor", "status", "issued_at"]
    column_labels = {"doc_type": "Type", "total_minor": "Total", "issued_at": "Issued",
                     "sent_at": "Sent", "sent_channel": "Sent by", "number": "Number",
                     "contact.last_name": "Contact"}
    column_formatters = {"number": lambda v, c, row, n: row.display_number}
    column_formatters_export = {"number": lambda v, c, row, n: row.display_number}
    form_columns = ["doc_type", "contact", "currency", "notes", "lines"]
    form_ajax_refs = {"contact": CONTACT_LOOKUP}
    inline_models = [DocumentLineInline(DocumentLine)]
    column_details_list = ["id", "doc_type", "number", "status", "contact", "payment", "refund",
                           "currency", "lines", "total_minor", "notes", "issued_at", "sent_at",
                           "sent_channel"]

    details_template = "admin/model/document_details.html"

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.document_menu_items(row)]

    def is_record_editable(self, row) -> bool:
        return row.status is DocumentStatus.DRAFT

    def on_model_change(self, form, model, is_created):
        """Only drafts change; a draft's total is the sum of its lines."""
        if not is_created and not self._was_draft(model):
            raise ValidationError(f"{model} is issued and can no longer be edited.")
        for number, line in enumerate(model.lines, start=1):
            if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
                raise ValidationError(f"Line {number}: the quantity is a whole number from 1 "
                                      f"to {MAX_QUANTITY:,}.")
            if not isinstance(line.unit_amount_minor, int) or line.unit_amount_minor < 0:
                raise ValidationError(f"Line {number}: enter the unit price, e.g. 75.00.")
        model.total_minor = sum(line.quantity * line.unit_amount_minor for line in model.lines)
        super().on_model_change(form, model, is_created)

    def on_model_delete(self, model):
        if not self._was_draft(model):
            raise ValidationError(f"{model} is issued and cannot be deleted.")
        super().on_model_delete(model)

    @staticmethod
    def _was_draft(model) -> bool:
        from sqlalchemy import inspect

        history = inspect(model).attrs.status.history
        original = (history.deleted or history.unchanged or [model.status])[0]
        return original is DocumentStatus.DRAFT
