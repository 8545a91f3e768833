"""Cashier → Accounting documents: the list (search by number, contact or amount; filters by
type, status, date, payment and delivery state) and the draft's form (lines with services and
discounts, due date, tax rate, the document a credit note corrects)."""

from __future__ import annotations

import re

from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import or_, select
from wtforms import StringField, ValidationError
from wtforms.validators import Optional, Regexp

from ..contacts_search import contact_search_condition
from ..documents.rendering import payment_state
from ..models import Contact, Document, DocumentLine, DocumentStatus
from ..money import parse_money
from .base import AppModelView, MoneyInlineForm
from .document_actions import DocumentActionsMixin
from .document_pages import DocumentPagesMixin
from .fields import use_money_field
from .subscriptions import CONTACT_LOOKUP

NUMBER_RE = re.compile(r"^[A-Za-z/_.#-]*0*([0-9]{1,9})$")
STATE_CSS = {"Paid": "success", "Refunded": "success", "Credited": "success",
             "Overdue": "danger", "Void": "secondary", "Due": "warning", "Draft": "light"}
DELIVERY = [("queued", "Queued"), ("sending", "Sending"), ("sent", "Sent"),
            ("failed", "Failed"), ("unconfirmed", "Not confirmed")]


def _state_badge(view, context, row, name):
    state = payment_state(row)
    return Markup('<span class="badge badge-{}">{}</span>').format(STATE_CSS[state], state)


def _delivery(view, context, row, name):
    return dict(DELIVERY).get(row.delivery_state or "", "")


MAX_QUANTITY = 10_000  # a line's quantity: far beyond any bill, its total within a bigint


class DocumentLineInline(MoneyInlineForm):
    form_columns = ["id", "description", "service", "quantity", "unit_amount_minor",
                    "discount_minor"]
    money_labels = {"unit_amount_minor": "Unit price", "discount_minor": "Discount"}

    def postprocess_form(self, form_class):
        form_class = super().postprocess_form(form_class)
        use_money_field(form_class, "discount_minor", label="Discount", required=False)
        return form_class


class DocumentView(DocumentPagesMixin, DocumentActionsMixin, AppModelView):
    """Accounting documents. Drafts are edited here; issuing numbers them and freezes them."""

    column_list = ["id", "doc_type", "number", "contact", "total_minor", "status", "state",
                   "issued_at", "due_date", "delivery_state", "sent_channel"]
    column_filters = ["doc_type", "status", "issued_at", "due_date", "paid_at",
                      FilterEqual(Document.delivery_state, "Delivery", options=DELIVERY),
                      "sent_channel", "total_minor"]
    column_searchable_list = ["contact.last_name", "contact.email"]
    search_hint = "Number (INV-000012 or 12), contact, or amount (75.00)"
    column_sortable_list = ["id", "doc_type", "number", "total_minor", "status", "issued_at",
                            "due_date"]
    column_labels = {"doc_type": "Type", "total_minor": "Total", "issued_at": "Issued",
                     "sent_at": "Sent", "sent_channel": "Sent by", "number": "Number",
                     "contact.last_name": "Contact", "state": "Payment",
                     "delivery_state": "Delivery", "due_date": "Due", "paid_at": "Paid",
                     "related_document": "Corrects / pays"}
    column_formatters = {"number": lambda v, c, row, n: row.display_number,
                         "state": _state_badge, "delivery_state": _delivery}
    column_formatters_export = {"number": lambda v, c, row, n: row.display_number,
                                "state": lambda v, c, row, n: payment_state(row),
                                "delivery_state": _delivery}
    form_columns = ["doc_type", "contact", "currency", "due_date", "tax_rate",
                    "related_document", "notes", "lines"]
    form_extra_fields = {"tax_rate": StringField(
        "Tax rate (%)", validators=[Optional(), Regexp(r"^[0-9]{1,3}([.,][0-9]{1,2})?$",
                                                       message="A percentage, e.g. 8.25.")],
        description="Leave empty for no tax. Applied to the lines after their discounts.")}
    form_ajax_refs = {"contact": CONTACT_LOOKUP,
                      "related_document": {"fields": ("number",), "page_size": 20,
                                           "placeholder": "The document's number"}}
    form_args = {"due_date": {"label": "Due date"},
                 "related_document": {
        "label": "Corrects / pays",
        "description": "A credit note names the document it corrects."}}
    inline_models = [DocumentLineInline(DocumentLine)]

    details_template = "admin/model/document_details.html"

    def row_menu_items(self, row):
        return [*super().row_menu_items(row), *self.document_menu_items(row)]

    def is_record_editable(self, row) -> bool:
        return row.status is DocumentStatus.DRAFT

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """A number (INV-000012, 12), an amount (75.00, in the clinic's currency) or a
        contact (as the top bar finds them)."""
        term = (search or "").strip()
        conditions = []
        number = NUMBER_RE.match(term)
        if number:
            conditions.append(Document.number == int(number.group(1)))
        try:
            from ..models import CashierSettings

            conditions.append(Document.total_minor == parse_money(
                term, CashierSettings.get().currency))
        except ValueError:
            pass
        contact = contact_search_condition(term)
        if contact is not None and not term.replace(".", "").replace(",", "").isdigit():
            conditions.append(Document.contact_id.in_(select(Contact.id).where(contact)))
        condition = or_(*conditions) if conditions else Document.id.is_(None)
        query = query.filter(condition)
        count_query = count_query.filter(condition) if count_query is not None else None
        return query, count_query, joins, count_joins

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        if model is not None and model.tax_rate_bp:
            form.tax_rate.data = f"{model.tax_rate_bp / 100:g}"

    def on_model_change(self, form, model, is_created):
        """Only drafts change; a draft's total is its lines less discounts, plus tax."""
        if not is_created and not self._was_draft(model):
            raise ValidationError(f"{model} is issued and can no longer be edited.")
        for number, line in enumerate(model.lines, start=1):
            if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
                raise ValidationError(f"Line {number}: the quantity is a whole number from 1 "
                                      f"to {MAX_QUANTITY:,}.")
            if not isinstance(line.unit_amount_minor, int) or line.unit_amount_minor < 0:
                raise ValidationError(f"Line {number}: enter the unit price, e.g. 75.00.")
            line.discount_minor = line.discount_minor or 0
            if line.discount_minor > line.quantity * line.unit_amount_minor:
                raise ValidationError(f"Line {number}: the discount is more than the line.")
        rate = (form.tax_rate.data or "").strip().replace(",", ".") if hasattr(form, "tax_rate") \
            else None
        if rate is not None:
            basis_points = round(float(rate) * 100) if rate else None
            if basis_points is not None and basis_points > 10000:
                raise ValidationError("The tax rate is a percentage from 0 to 100.")
            model.tax_rate_bp = basis_points or None
        model.total_minor = model.computed_total_minor()
        super().on_model_change(form, model, is_created)

    def on_model_delete(self, model):
        if not self._was_draft(model):
            raise ValidationError(f"{model} is issued and cannot be deleted.")
        super().on_model_delete(model)

    @staticmethod
    def _was_draft(model) -> bool:
        history = sa_inspect(model).attrs.status.history
        original = (history.deleted or history.unchanged or [model.status])[0]
        return original is DocumentStatus.DRAFT
