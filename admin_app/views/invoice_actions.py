"""Accounting documents → an issued invoice → ⋯ → Charge saved card, Mark paid (cash /
other), Void: workflow 6 after issue."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..actions.charge_invoice import charge_invoice
from ..actions.void_document import void_document
from ..billing.charging import default_card
from ..billing.credit_payments import invoice_split
from ..documents.invoices import is_open_invoice
from ..money import format_money
from .action_forms import ActionForm, new_idempotency_key
from .action_pages import ActionPage
from .formatting import format_datetime
from .row_menu import MenuItem


class VoidForm(ActionForm):
    reason = StringField("Reason", validators=[DataRequired("Say why the invoice is voided."),
                                               Length(max=200)],
                         description="Printed on the invoice under VOID, e.g. “Issued twice”.")


class InvoiceActionsMixin:
    def invoice_menu_items(self, row, back) -> list[MenuItem]:
        if not is_open_invoice(row) or row.payment_id is not None:
            return []
        from_credit, rest = invoice_split(row)
        amount = format_money(rest, row.currency)
        first = (f"{format_money(from_credit, row.currency)} is paid from account credit first"
                 + ("; nothing else is taken. " if not rest else ". ")) if from_credit else ""
        endpoint = self.endpoint
        card = default_card(row.contact)
        items = []
        if card is not None:
            items.append(MenuItem(
                "Charge saved card", url_for(f"{endpoint}.charge_invoice_view", id=row.id,
                                             method="card", url=back),
                "fa-credit-card", method="POST",
                confirm=f"{first}Charge {amount} to {card} for {row}?" if rest
                else f"{first}Pay {row}?",
                idempotency_key=new_idempotency_key()))
        for method, label in (("cash", "Mark paid (cash)"), ("other", "Mark paid (other)")):
            items.append(MenuItem(label, url_for(f"{endpoint}.charge_invoice_view", id=row.id,
                                                 method=method, url=back),
                                  "fa-money", method="POST",
                                  confirm=f"{first}Record {amount} received by {method} for "
                                          f"{row}?" if rest else f"{first}Pay {row}?",
                                  idempotency_key=new_idempotency_key()))
        items.append(MenuItem("Void", url_for(f"{endpoint}.void_invoice_view", id=row.id,
                                              url=back), "fa-ban", is_danger=True))
        return items

    @expose("/charge-invoice/", methods=("POST",))
    def charge_invoice_view(self):
        page = ActionPage.open(self, doing="charge invoices",
                               back=lambda doc: url_for(".details_view", id=doc.id))
        method = request.args.get("method", "")
        if method not in ("card", "cash", "other"):
            flash("Choose the saved card, cash or other.", "error")
            return redirect(page.back)
        return page.submit(ActionForm(), lambda key: charge_invoice(
            page.record, method=method, actor=current_user, idempotency_key=key)) \
            or redirect(page.back)

    @expose("/void/", methods=("GET", "POST"))
    def void_invoice_view(self):
        page = ActionPage.open(self, doing="void invoices",
                               back=lambda doc: url_for(".details_view", id=doc.id))
        invoice = page.record
        form = VoidForm()
        done = page.submit(form, lambda key: void_document(
            invoice, reason=form.reason.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(
            title=f"Void {invoice}",
            intro="The invoice keeps its number and shows VOID; nothing is deleted. A paid "
                  "invoice is corrected by refunding its payment instead.",
            facts=[("Contact", invoice.contact.full_name),
                   ("Total", format_money(invoice.total_minor, invoice.currency)),
                   ("Issued", format_datetime(invoice.issued_at))],
            form=form, submit_label="Void invoice")
