"""Transactions → ⋯ → Retry charge on a failed card payment, and the contact card's "Retry
failed charges" (every failed charge a retry would pay now), typically right after the member
saved a new card."""

from __future__ import annotations

from flask import has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from ..actions.retry_failed_payment import retry_failed_payment
from ..billing.charging import default_card
from ..billing.retry_rules import (
    is_retry_candidate,
    original_of,
    retry_refusal,
    retryable_failed_payments,
)
from ..extensions import db
from ..models import Contact, Payment
from ..money import format_money
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .bulk import run_bulk
from .row_menu import MenuItem


def _describe(payment: Payment) -> str:
    return (f"#{payment.id} · {payment.purpose.label} · "
            f"{format_money(payment.amount_minor, payment.currency)}"
            + (f" · {payment.description}" if payment.description else ""))


class RetryActionsMixin:
    """Mixed into the Transactions (payments) view."""

    def retry_menu_items(self, row) -> list[MenuItem]:
        """⋯ → Retry charge on a failed card payment that a retry would pay now (not one
        already paid by a retry, nor one whose retry is pending), for roles that may charge."""
        if not self.may_write or not is_retry_candidate(row) \
                or retry_refusal(original_of(row)) is not None:
            return []
        back = request.full_path if has_request_context() else None
        return [MenuItem("Retry charge", url_for(f"{self.endpoint}.retry_view", id=row.id,
                                                 url=back), "fa-repeat")]

    def _card_fact(self, contact: Contact) -> tuple[str, str]:
        card = default_card(contact)
        return ("Charge to", f"{card} (the default card)" if card else
                "no saved card: add one, or send the member a payment-method link")

    @expose("/retry/", methods=("GET", "POST"))
    def retry_view(self):
        page = ActionPage.open(self, doing="retry failed payments",
                               back=contact_tab("transactions"))
        payment = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: retry_failed_payment(
            payment, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        original = original_of(payment)
        refusal = retry_refusal(original)
        facts = [("Failed payment", _describe(original)),
                 ("Contact", original.contact.full_name),
                 ("Why it failed", original.failure_reason or "—"),
                 self._card_fact(original.contact)]
        if original.id != payment.id:
            facts.insert(0, ("Retrying", f"payment #{payment.id} was itself a retry: the "
                                         f"original, #{original.id}, is charged again"))
        return page.render("admin/action_page.html", title=f"Retry payment #{original.id}",
                           intro="Charge the same amount again to the contact's default card. "
                                 "Paid, it issues a receipt and settles what it was for (a past "
                                 "due subscription becomes active, a no-show fee charged).",
                           facts=facts, warnings=[refusal.message] if refusal else [],
                           form=form if refusal is None else None, submit_label="Retry charge")

    @expose("/retry-failed/", methods=("GET", "POST"))
    def retry_failed_view(self):
        """Retry every failed charge of ``?contact_id=`` that a retry would pay now."""
        page = ActionPage.open(self, doing="retry failed payments", model=Contact,
                               arg="contact_id", back=contact_tab("transactions"))
        contact = page.record
        payments = retryable_failed_payments(contact)
        form = ActionForm()
        if payments and form.validate_on_submit():
            run_bulk([p.id for p in payments], lambda payment_id, key: retry_failed_payment(
                db.session.get(Payment, payment_id), actor=current_user, idempotency_key=key),
                bulk_key=form.idempotency_key.data, done_word="retried and paid")
            return redirect(page.back)
        return page.render(
            "admin/action_page.html", title=f"Retry failed charges of {contact}",
            intro="Each failed charge below is charged again to the contact's default card, "
                  "one after the other; each paid one issues its receipt.",
            facts=[self._card_fact(contact),
                   *((f"Payment #{p.id}", _describe(p)) for p in payments)],
            warnings=[] if payments else [f"{contact} has no failed charge to retry."],
            form=form if payments else None, submit_label=f"Retry {len(payments)} charge"
                                                          f"{'s' if len(payments) > 1 else ''}")
