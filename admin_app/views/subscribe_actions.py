"""Contact card → Subscriptions → Subscribe to a plan (issue 11, at the desk): the plan, an
optional promo code, the start and how the first payment is made; then a review of what is
charged today (activation fee, first period after the promo, the credits), which confirms.
The action is ``subscribe_to_plan``, the same the member's sign-up page runs."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from ..actions.subscribe_to_plan import PAID_WITH, review_subscription, subscribe_to_plan
from ..billing.charging import default_card
from ..clinic_time import clinic_zone, format_clinic
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, Plan
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
from .charge_actions import saved_card_choice

PAID_WITH_LABELS = {"cash": "Cash, taken at the desk",
                    "other": "Other (bank transfer, voucher…), taken outside the panel",
                    "invoice": "An open invoice (the member pays later)"}


def _plan_choices() -> list[tuple[int, str]]:
    plans = db.session.scalars(select(Plan).where(Plan.is_active.is_(True)).order_by(Plan.name))
    return [(plan.id, plan.name) for plan in plans]


def start_moment(day: date | None) -> datetime | None:
    """The start typed as a day of the clinic's calendar: ``None`` (now) for today or none,
    else the beginning of that day in the clinic's zone."""
    zone = clinic_zone()
    if day is None or day == utcnow().astimezone(zone).date():
        return None
    return datetime.combine(day, time(0), tzinfo=zone)


class SubscribeForm(ActionForm):
    plan = SelectField("Plan", coerce=int, validators=[InputRequired("Choose a plan.")])
    promo_code = StringField("Promo code", validators=[Optional(), Length(max=40)],
                             description="Optional. Checked by the Apply Promo rules.")
    start = RadioField("Start", default="now", choices=[("now", "Now"),
                                                        ("date", "On a date")])
    start_date = DateField("Start date", validators=[Optional()],
                           description="In the clinic's time zone; used with “On a date”.")
    paid_with = RadioField("First payment", default="card", choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan.choices = _plan_choices()

    def offer_methods(self, contact: Contact) -> None:
        card, card_label = saved_card_choice(contact)
        self.paid_with.choices = [("card", card_label), *PAID_WITH_LABELS.items()]
        if card is None and not self.is_submitted():
            self.paid_with.data = "cash"

    def validate_start_date(self, field) -> None:
        if self.start.data == "date" and field.data is None:
            raise ValueError("Choose the start date.")

    def starts_at(self) -> datetime | None:
        return start_moment(self.start_date.data if self.start.data == "date" else None)


class SubscribeReviewForm(ActionForm):
    """The review: the first step's choices carried as they were typed and read again."""

    plan = HiddenField(validators=[InputRequired()])
    promo_code = HiddenField()
    start_date = HiddenField()
    paid_with = HiddenField(validators=[AnyOf(PAID_WITH)])
    reviewed = HiddenField(default="1")

    def plan_record(self) -> Plan | None:
        value = (self.plan.data or "").strip()
        return db.session.get(Plan, int(value)) if value.isdigit() and len(value) < 10 else None

    def starts_at(self) -> datetime | None:
        try:
            day = date.fromisoformat(self.start_date.data) if self.start_date.data else None
        except ValueError:
            day = None
        return start_moment(day)


class SubscribeActionsMixin:
    """Mixed into the Contacts view."""

    SUBSCRIBE_DOING = "subscribe contacts to plans"

    @expose("/subscribe/", methods=("GET", "POST"))
    def subscribe_view(self):
        page = ActionPage.open(self, doing=self.SUBSCRIBE_DOING,
                               back=contact_tab("subscriptions"))
        contact = page.record
        if "reviewed" in request.form:
            review = SubscribeReviewForm()
            plan = review.plan_record()
            done = plan is not None and page.submit(review, lambda key: subscribe_to_plan(
                contact, plan=plan, promo_code=review.promo_code.data or None,
                starts_at=review.starts_at(), paid_with=review.paid_with.data,
                actor=current_user, idempotency_key=key))
            if done:
                return done
            return self._render_subscribe_review(page, review)
        form = SubscribeForm(plan=request.args.get("plan", type=int),
                             promo_code=(request.args.get("promo") or "")[:40])
        form.offer_methods(contact)
        if form.validate_on_submit():
            review = SubscribeReviewForm(
                formdata=None, plan=str(form.plan.data),
                promo_code=(form.promo_code.data or "").strip(),
                start_date=form.start_date.data.isoformat()
                if form.start.data == "date" and form.start_date.data else "",
                paid_with=form.paid_with.data, idempotency_key=form.idempotency_key.data)
            return self._render_subscribe_review(page, review, back_form=form)
        return page.render(title=f"Subscribe {contact} to a plan",
                           intro="Choose the plan, a promo code if the member has one, when "
                                 "it starts and how the first payment is made. You review "
                                 "what is charged before anything happens.",
                           facts=[("Contact", contact.full_name),
                                  ("Email", contact.email or "—")],
                           warnings=self._prefilled_problems(form, contact),
                           form=form, submit_label="Review")

    @staticmethod
    def _prefilled_problems(form: SubscribeForm, contact: Contact) -> list[str]:
        """What refuses the plan and promo code a link prefilled (Subscriptions → Create),
        said before the admin goes on."""
        plan = db.session.get(Plan, form.plan.data) if isinstance(form.plan.data, int) \
            and 0 < form.plan.data < 2**31 else None
        if form.is_submitted() or plan is None:
            return []
        try:
            review_subscription(plan, promo_code=form.promo_code.data or None, starts_at=None,
                                contact=contact)
        except ActionError as refused:
            return [refused.message]
        return []

    def _render_subscribe_review(self, page: ActionPage, review: SubscribeReviewForm,
                                 back_form: SubscribeForm | None = None):
        contact, plan = page.record, review.plan_record()
        warnings, facts = [], [("Contact", contact.full_name)]
        try:
            if plan is None:
                raise ActionError("plan_missing", "That plan no longer exists: choose again.")
            quote = review_subscription(plan, promo_code=review.promo_code.data or None,
                                        starts_at=review.starts_at(), contact=contact)
        except ActionError as refused:
            form = back_form or SubscribeForm(formdata=None)
            form.offer_methods(contact)
            return page.render(title=f"Subscribe {contact} to a plan", warnings=[
                refused.message], facts=facts, form=form, submit_label="Review")
        money = quote.money
        facts += [
            ("Plan", f"{plan} — {money(plan.price_minor)} every " + (
                plan.interval.value if plan.interval_count == 1
                else f"{plan.interval_count} {plan.interval.value}s")),
            ("Starts", "now" if review.starts_at() is None
             else format_clinic(quote.starts_at, "%d %b %Y")),
            ("First period", f"{format_clinic(quote.starts_at, '%d %b %Y')} – "
                             f"{format_clinic(quote.ends_at, '%d %b %Y')}"),
            ("Activation fee", money(quote.activation_fee_minor)),
            ("First period's price", money(quote.first_period_minor) + (
                f" ({money(quote.period_price_minor)} less promo code {quote.promo}, "
                f"{money(quote.discount_minor)} off)" if quote.promo is not None else "")),
            ("Due today", money(quote.due_today_minor)),
            ("Credits for the period", ", ".join(f"{n} × {service}" for service, n in
                                                 quote.credits) or "none"),
            ("Paid by", {"card": (lambda card: f"Saved card {card.display_name}" if card else
                                  "Saved card: none saved")(default_card(contact)),
                         **PAID_WITH_LABELS}.get(review.paid_with.data, "—")),
        ]
        warnings += [message for field in (review.plan, review.paid_with)
                     for message in field.errors]
        label = (f"Charge {money(quote.due_today_minor)} and subscribe"
                 if review.paid_with.data == "card" and quote.due_today_minor else "Subscribe")
        return page.render(title=f"Review: subscribe {contact} to {plan}",
                           intro="Nothing is charged until you confirm. Confirming opens the "
                                 "first period, grants its credits and issues the receipt.",
                           facts=facts, warnings=warnings, form=review, submit_label=label)
