"""Contact card → Account credit → Refund to card / Adjust."""

from __future__ import annotations

from flask_admin import expose
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired

from ..actions.adjust_account_credit import adjust_account_credit
from ..actions.refund_account_credit import refund_account_credit
from ..billing.account_credit import account_credit_balances
from ..money import format_money
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .charge_actions import currency_choices
from .fields import MoneyField


class RefundAccountCreditForm(ActionForm):
    amount = MoneyField("Amount to refund", validators=[InputRequired()])
    currency = SelectField("Currency", validators=[InputRequired()])
    note = StringField("Note (optional)",
                       description="Kept on the refund, e.g. “Moving away”.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class AdjustAccountCreditForm(ActionForm):
    direction = RadioField("Change", default="add",
                           choices=[("add", "Add account credit"),
                                    ("take", "Take account credit away")])
    amount = MoneyField("Amount", validators=[InputRequired()])
    currency = SelectField("Currency", validators=[InputRequired()])
    reason = StringField("Reason", validators=[DataRequired("Say why the account credit "
                                                            "changes.")],
                         description="Shown in the account credit history, e.g. “Goodwill: "
                                     "studio closed”.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()

    def signed_amount(self) -> int:
        return -self.amount.data if self.direction.data == "take" else self.amount.data


def _balance_facts(contact) -> list[tuple[str, str]]:
    balances = account_credit_balances(contact.id)
    said = ", ".join(format_money(amount, currency) for currency, amount in balances)
    return [("Contact", contact.full_name), ("Account credit", said or "none")]


class AccountCreditActionsMixin:
    """Mixed into the Contacts view."""

    @expose("/account-credit/refund/", methods=("GET", "POST"))
    def refund_account_credit_view(self):
        page = ActionPage.open(self, doing="refund account credit",
                               back=contact_tab("account_credit"))
        contact = page.record
        form = RefundAccountCreditForm()
        done = page.submit(form, lambda key: refund_account_credit(
            contact, amount_minor=form.amount.data, currency=form.currency.data,
            note=form.note.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"Refund account credit to the card · {contact}",
                           intro="The account credit is paid back to the card through the "
                                 "payment processor, against the member's most recent card "
                                 "payments (newest first, never more than each has left to "
                                 "refund). Each refund gets a credit note.",
                           facts=_balance_facts(contact), form=form,
                           submit_label="Refund to card")

    @expose("/account-credit/adjust/", methods=("GET", "POST"))
    def adjust_account_credit_view(self):
        page = ActionPage.open(self, doing="adjust account credit",
                               back=contact_tab("account_credit"))
        contact = page.record
        form = AdjustAccountCreditForm()
        done = page.submit(form, lambda key: adjust_account_credit(
            contact, amount_minor=form.signed_amount(), currency=form.currency.data,
            reason=form.reason.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"Adjust account credit · {contact}",
                           intro="Add or take away account credit by hand. Every change is a "
                                 "line in the account credit history, with its reason.",
                           facts=_balance_facts(contact), form=form,
                           submit_label="Save adjustment")
