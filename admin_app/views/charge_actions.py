"""Contact card → Charge (workflow 5) and contact card → Payment methods → Add card
(workflow 9, at the desk)."""

from __future__ import annotations

from flask import request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Optional

from ..actions.add_payment_method import add_payment_method
from ..actions.charge_custom_bill import charge_custom_bill
from ..billing.account_credit import account_credit_balance
from ..billing.charging import default_card
from ..extensions import db
from ..models import CashierSettings, Contact, PaymentMethod, PaymentMethodKind, Plan, Service
from ..money import format_money, is_currency_code, parse_money
from ..payments import CardDetails
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .card_fields import CardExpiryField
from .fields import MoneyField, is_large_amount


def _account_credit_facts(contact: Contact, review) -> list[tuple[str, str]]:
    """What the contact's account credit pays of the bill first (``charge_custom_bill``)."""
    currency = review.currency.data or ""
    try:
        amount = review.amount_minor()
    except ValueError:
        return []
    held = account_credit_balance(contact.id, currency) if is_currency_code(currency) else 0
    used = min(held, amount)
    if used <= 0:
        return []
    return [("Paid from account credit first", format_money(used, currency)),
            ("Left to pay", format_money(amount - used, currency))]


def currency_choices() -> list[tuple[str, str]]:
    """The currencies the clinic bills in: its own (Cashier settings), and those of its plans
    and services; a choice, never free text."""
    codes = {CashierSettings.get().currency}
    codes |= set(db.session.scalars(select(Plan.currency).distinct()))
    codes |= set(db.session.scalars(select(Service.currency).distinct()))
    return [(code, code) for code in sorted(c for c in codes if is_currency_code(c))]


def saved_card_choice(contact: Contact) -> tuple[PaymentMethod | None, str]:
    """The contact's default card and how a "paid by" choice names it."""
    card = default_card(contact)
    return card, (f"Saved card: {card.display_name} (expires {card.expiry})" if card else
                  "Saved card: none saved yet, add one under Payment methods")


class ChargeForm(ActionForm):
    amount = MoneyField("Amount", validators=[InputRequired()])
    currency = SelectField("Currency", validators=[InputRequired()])
    description = StringField("Description", validators=[DataRequired("Say what the bill is "
                                                                      "for.")],
                              description="What the bill is for; printed on the receipt.")
    charge_to = RadioField("Charge to", choices=[], default=PaymentMethodKind.CARD.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()

    def offer_methods(self, contact: Contact) -> None:
        card, card_label = saved_card_choice(contact)
        self.charge_to.choices = [(PaymentMethodKind.CARD.value, card_label),
                                  (PaymentMethodKind.CASH.value, "Cash, taken at the desk"),
                                  (PaymentMethodKind.OTHER.value,
                                   "Other (bank transfer, voucher…), taken outside the panel")]
        if card is None and not self.is_submitted():
            self.charge_to.data = PaymentMethodKind.CASH.value


class ChargeReviewForm(ActionForm):
    """The review of a charge: what the first step took, carried as typed, read again (a
    changed amount or currency is read again just as strictly), and the confirmation a large
    amount needs (``LARGE_AMOUNT``)."""

    amount = HiddenField(validators=[InputRequired()])
    currency = HiddenField(validators=[InputRequired()])
    description = HiddenField()
    charge_to = HiddenField(validators=[AnyOf([kind.value for kind in PaymentMethodKind])])
    reviewed = HiddenField(default="1")
    confirm_large = BooleanField("Yes, charge this amount")

    def amount_minor(self) -> int:
        return parse_money(self.amount.data or "", self.currency.data or "")

    def validate_amount(self, field) -> None:
        try:
            self.amount_minor()
        except ValueError as why:
            raise ValidationError(str(why)) from None

    def is_large(self) -> bool:
        try:
            return is_large_amount(self.amount_minor(), self.currency.data or "")
        except ValueError:
            return False

    def validate_confirm_large(self, field) -> None:
        if self.is_large() and not field.data:
            raise ValidationError("This is a large amount: tick the box to confirm it.")


class AddCardForm(ActionForm):
    number = StringField("Card number", validators=[InputRequired()],
                         render_kw={"autocomplete": "off", "inputmode": "numeric"},
                         description="Sent to the payment processor; only its brand, last 4 "
                                     "digits and expiry are kept here.")
    expiry = CardExpiryField("Expiry", validators=[InputRequired("Enter the expiry date.")],
                             description="As printed on the card, e.g. 08/29.")
    cvc = PasswordField("CVC", validators=[Optional()], render_kw={"autocomplete": "off"})
    make_default = BooleanField("Make it the default card (subscriptions and fees charge it)",
                                default=True)


class ChargeActionsMixin:
    """Mixed into the Contacts view: the card's Charge button and Add card form."""

    DOING = "charge contacts or change their payment methods"

    @expose("/charge/", methods=("GET", "POST"))
    def charge_view(self):
        """Two steps, as upgrade has: the bill, then its review (amount, currency, how it is
        paid, the receipt's line; a large amount to confirm), which charges."""
        page = ActionPage.open(self, doing=self.DOING, back=contact_tab("transactions"))
        contact = page.record
        if "reviewed" in request.form:
            review = ChargeReviewForm()
            done = page.submit(review, lambda key: charge_custom_bill(
                contact, amount_minor=review.amount_minor(), currency=review.currency.data,
                description=review.description.data,
                method=PaymentMethodKind(review.charge_to.data), actor=current_user,
                idempotency_key=key))
            return done or self._render_charge_review(page, review)
        form = ChargeForm(currency=CashierSettings.get().currency)
        form.offer_methods(contact)
        if form.validate_on_submit():
            review = ChargeReviewForm(
                formdata=None, amount=form.amount.raw_data[0].strip(),
                currency=form.currency.data, description=form.description.data.strip(),
                charge_to=form.charge_to.data, idempotency_key=form.idempotency_key.data)
            return self._render_charge_review(page, review)
        return page.render(title=f"Charge {contact}",
                           intro="Charge a custom bill: to the saved card through the payment "
                                 "processor, or recorded as paid in cash / other. A receipt is "
                                 "issued. You review it before anything is charged.",
                           facts=[("Contact", contact.full_name),
                                  ("Email", contact.email or "—")],
                           form=form, submit_label="Review the charge")

    def _render_charge_review(self, page: ActionPage, review: ChargeReviewForm):
        contact = page.record
        try:
            amount = format_money(review.amount_minor(), review.currency.data)
        except ValueError:
            amount = review.amount.data
        method = PaymentMethodKind(review.charge_to.data) \
            if review.charge_to.data in {k.value for k in PaymentMethodKind} else None
        card = default_card(contact)
        paid_how = {PaymentMethodKind.CARD: f"Saved card {card.display_name}" if card
                    else "Saved card: none saved", PaymentMethodKind.CASH: "Cash, at the desk",
                    PaymentMethodKind.OTHER: "Other (outside the panel)"}.get(method, "—")
        # What was carried from the first step and no longer reads right (the page was altered)
        warnings = [message for field in (review.amount, review.currency, review.charge_to)
                    for message in field.errors]
        if review.is_large():
            warnings.append(f"{amount} is above the amount that asks for a confirmation: "
                            "check it, then tick the box.")
        else:
            del review.confirm_large
        facts = [("Contact", contact.full_name), ("Amount", amount),
                 ("Currency", review.currency.data), ("Paid by", paid_how),
                 ("On the receipt", review.description.data or "—")]
        from_credit = _account_credit_facts(contact, review)
        facts[3:3] = from_credit
        covered = bool(from_credit) and from_credit[-1][1] == format_money(
            0, review.currency.data)
        if covered:
            facts[5] = ("Paid by", "Account credit: nothing is charged")
        return page.render(title=f"Review: charge {amount} to {contact}",
                           intro="Nothing is charged until you confirm.",
                           facts=facts,
                           warnings=warnings, form=review,
                           submit_label=f"Pay {amount} from account credit" if covered
                           else f"Charge {amount}" if method is PaymentMethodKind.CARD
                           else f"Record {amount} as paid")

    @expose("/payment-methods/add/", methods=("GET", "POST"))
    def add_card_view(self):
        page = ActionPage.open(self, doing=self.DOING, back=contact_tab("payment_methods"))
        contact = page.record
        form = AddCardForm()
        done = page.submit(form, lambda key: add_payment_method(
            contact, card=CardDetails(form.number.data.strip(), *form.expiry.month_year,
                                      form.cvc.data or ""),
            make_default=form.make_default.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        form.number.data = ""  # never echo a card number back into the page
        current = default_card(contact)
        return page.render(title=f"Add a card for {contact}",
                           intro="Type the card the member gives at the desk. It is saved at "
                                 "the payment processor.",
                           facts=[("Contact", contact.full_name),
                                  ("Default card now", str(current) if current else "none")],
                           form=form, submit_label="Save card")
