"""Contact card → Charge (workflow 5) and contact card → Payment methods → Add card
(workflow 9, at the desk)."""

from __future__ import annotations

from flask_admin import expose
from flask_login import current_user
from wtforms import BooleanField, IntegerField, PasswordField, RadioField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from ..actions.add_payment_method import add_payment_method
from ..actions.charge_custom_bill import charge_custom_bill
from ..billing.charging import default_card
from ..models import CashierSettings, Contact, PaymentMethodKind
from ..payments import CardDetails
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .fields import MoneyField


class ChargeForm(ActionForm):
    amount = MoneyField("Amount", validators=[InputRequired()])
    currency = StringField("Currency", validators=[InputRequired()],
                           description="Three-letter code, e.g. USD.")
    description = StringField("Description", validators=[Optional()],
                              description="What the bill is for; printed on the receipt.")
    charge_to = RadioField("Charge to", choices=[], default=PaymentMethodKind.CARD.value)

    def offer_methods(self, contact: Contact) -> None:
        card = default_card(contact)
        card_label = (f"Saved card: {card.display_name} (expires {card.expiry})" if card else
                      "Saved card: none saved yet, add one under Payment methods")
        self.charge_to.choices = [(PaymentMethodKind.CARD.value, card_label),
                                  (PaymentMethodKind.CASH.value, "Cash, taken at the desk"),
                                  (PaymentMethodKind.OTHER.value,
                                   "Other (bank transfer, voucher…), taken outside the panel")]
        if card is None and not self.is_submitted():
            self.charge_to.data = PaymentMethodKind.CASH.value


class AddCardForm(ActionForm):
    number = StringField("Card number", validators=[InputRequired()],
                         render_kw={"autocomplete": "off", "inputmode": "numeric"},
                         description="Sent to the payment processor; only its brand, last 4 "
                                     "digits and expiry are kept here.")
    exp_month = IntegerField("Expiry month", validators=[InputRequired(), NumberRange(1, 12)])
    exp_year = IntegerField("Expiry year", validators=[InputRequired(),
                                                       NumberRange(2000, 2100)],
                            description="Four digits, e.g. 2030.")
    cvc = PasswordField("CVC", validators=[Optional()], render_kw={"autocomplete": "off"})
    make_default = BooleanField("Make it the default card (subscriptions and fees charge it)",
                                default=True)


class ChargeActionsMixin:
    """Mixed into the Contacts view: the card's Charge button and Add card form."""

    DOING = "charge contacts or change their payment methods"

    @expose("/charge/", methods=("GET", "POST"))
    def charge_view(self):
        page = ActionPage.open(self, doing=self.DOING, back=contact_tab("transactions"))
        contact = page.record
        form = ChargeForm(currency=CashierSettings.get().currency)
        form.offer_methods(contact)
        done = page.submit(form, lambda key: charge_custom_bill(
            contact, amount_minor=form.amount.data, currency=form.currency.data,
            description=form.description.data, method=PaymentMethodKind(form.charge_to.data),
            actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"Charge {contact}",
                           intro="Charge a custom bill: to the saved card through the payment "
                                 "processor, or recorded as paid in cash / other. A receipt is "
                                 "issued.",
                           facts=[("Contact", contact.full_name),
                                  ("Email", contact.email or "—")],
                           form=form, submit_label="Charge")

    @expose("/payment-methods/add/", methods=("GET", "POST"))
    def add_card_view(self):
        page = ActionPage.open(self, doing=self.DOING, back=contact_tab("payment_methods"))
        contact = page.record
        form = AddCardForm()
        done = page.submit(form, lambda key: add_payment_method(
            contact, card=CardDetails(form.number.data.strip(), form.exp_month.data,
                                      form.exp_year.data, form.cvc.data or ""),
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
