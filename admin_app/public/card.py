"""The member's payment-method page, ``/pay/card/<token>``: the public end of the
payment-method link (workflow 9). No sign-in: the signed, expiring token is the permission.

With the Stripe gateway the page mounts Stripe's card Element (Stripe.js from
``STRIPE_JS_URL`` with ``STRIPE_PUBLISHABLE_KEY``), confirms a SetupIntent in the browser and
posts only its id back. With the offline gateway it is a plain card form posted here. Both end
in ``save_card_from_link``; a tampered or expired link gets a friendly page, never an error.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Regexp

from ..actions.runner import AlreadyDone
from ..actions.save_card_from_link import save_card_from_link
from ..actions.start_card_setup import start_card_setup
from ..billing.charging import default_card
from ..billing.payment_method_links import OpenedLink, open_link
from ..errors import ActionError
from ..extensions import db
from ..models import CashierSettings
from ..payments import CardDetails, get_gateway
from ..security_headers import allow_stripe_js
from ..views.action_forms import ActionForm, new_idempotency_key
from ..views.card_fields import CardExpiryField

bp = Blueprint("public_card", __name__, url_prefix="/pay/card")

class SetupResultForm(ActionForm):
    """What the Stripe page posts back: the id of the SetupIntent Stripe.js confirmed."""

    setup_intent = HiddenField(validators=[InputRequired()])


class MemberCardForm(ActionForm):
    """The card as the member types it, for gateways without a browser card form."""

    number = StringField("Card number", validators=[InputRequired("Enter the card number.")],
                         render_kw={"autocomplete": "cc-number", "inputmode": "numeric",
                                    "placeholder": "1234 1234 1234 1234"})
    expiry = CardExpiryField("Expiry", validators=[InputRequired("Enter the expiry date.")])
    cvc = PasswordField("CVC", validators=[
        InputRequired("Enter the 3 or 4 digits on the back of the card."),
        Regexp(r"^\s*\d{3,4}\s*$", message="Enter the 3 or 4 digits on the back of the card.")],
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123"})

    def card(self) -> CardDetails:
        month, year = self.expiry.month_year
        return CardDetails(self.number.data.strip(), month, year, self.cvc.data.strip())


def _business_name() -> str:
    settings = db.session.get(CashierSettings, 1)
    return (settings.business_name if settings else "") or ""


def _link_problem(error: ActionError):
    status = 410 if error.code == "link_expired" else 404
    return render_template("public/card_link_problem.html",
                           is_expired=error.code == "link_expired",
                           business_name=_business_name()), status


def _render_card_page(token: str, link: OpenedLink, form=None, error: str | None = None):
    """The card form: Stripe's Element on a fresh SetupIntent, or the plain form."""
    gateway = get_gateway()
    common = {"token": token, "contact": link.contact, "expires_at": link.expires_at,
              "current_card": default_card(link.contact), "business_name": _business_name(),
              "error": error}
    if not gateway.collects_cards_in_browser:
        form = form if form is not None else MemberCardForm()
        form.idempotency_key.data = new_idempotency_key()
        form.number.data = ""  # never echo a card number back into the page
        return render_template("public/card_page.html", mode="form", form=form, **common)
    publishable_key = current_app.config.get("STRIPE_PUBLISHABLE_KEY")
    if not publishable_key:
        current_app.logger.error("STRIPE_PUBLISHABLE_KEY is not set: the payment-method page "
                                 "cannot show Stripe's card form.")
        return render_template("public/card_page.html", mode="unavailable", **{
            **common, "error": "Saving a card online is not available right now. Please "
                               "contact the clinic."}), 503
    try:
        setup = start_card_setup(link.contact)
    except ActionError as refused:
        return render_template("public/card_page.html", mode="unavailable",
                               **{**common, "error": refused.message}), 503
    allow_stripe_js(current_app.config["STRIPE_JS_URL"])
    return render_template("public/card_page.html", mode="stripe",
                           form=SetupResultForm(formdata=None), client_secret=setup.client_secret,
                           publishable_key=publishable_key,
                           stripe_js_url=current_app.config["STRIPE_JS_URL"], **common)


@bp.route("/<token>", methods=("GET", "POST"))
def card_page(token: str):
    try:
        link = open_link(token)
    except ActionError as error:
        return _link_problem(error)
    if not get_gateway().collects_cards_in_browser:
        form = MemberCardForm()
        save = lambda: save_card_from_link(  # noqa: E731
            link.contact, card=form.card(), idempotency_key=form.idempotency_key.data)
    else:
        form = SetupResultForm()
        save = lambda: save_card_from_link(  # noqa: E731
            link.contact, setup_id=form.setup_intent.data.strip(),
            idempotency_key=form.idempotency_key.data)
    if not form.is_submitted():
        return _render_card_page(token, link)
    if not form.validate():
        error = ("This page has expired. Please enter the card again."
                 if form.errors.get("csrf_token") or form.errors.get("setup_intent") else None)
        return _render_card_page(token, link, form=form, error=error)
    try:
        save()
    except AlreadyDone:
        pass  # a double submit: the card was saved by the first one
    except ActionError as refused:
        return _render_card_page(token, link, form=form, error=refused.message)
    _retry_owed_periods(link.contact.id)
    return redirect(url_for(".card_saved", token=token))


def _retry_owed_periods(contact_id: int) -> None:
    """The member's past due or unpaid periods are charged on the new card at once, by the
    worker (the hourly billing run would otherwise get to them)."""
    from ..billing.period_retries import owed_periods
    from ..jobs.tasks import charge_owed_periods

    if owed_periods(contact_id):
        try:
            charge_owed_periods(contact_id)
        except Exception:  # noqa: BLE001 - the queue down: the hourly billing run retries
            current_app.logger.exception("could not queue the retry of owed periods")


@bp.route("/<token>/saved")
def card_saved(token: str):
    try:
        link = open_link(token)
    except ActionError as error:
        return _link_problem(error)
    return render_template("public/card_saved.html", contact=link.contact,
                           card=default_card(link.contact), business_name=_business_name(),
                           again_url=url_for(".card_page", token=token))
