"""Subscriptions → ⋯ → Upgrade / Downgrade / Cancel scheduled change (workflows 3 and 4).

Two steps, as in the guide: select the plan, then review its details and what it costs or
credits now, and confirm. The review page carries a signed token of what it showed; if the
subscription or the plan changed meanwhile, the admin is asked to review again.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectField

from ..actions.cancel_scheduled_change import cancel_scheduled_change
from ..actions.downgrade_subscription import downgrade_subscription
from ..actions.upgrade_subscription import upgrade_subscription
from ..billing.charging import default_card
from ..billing.period_credits import describe_credit_changes
from ..billing.period_money import period_payment
from ..billing.plan_change import (
    PlanChangeQuote,
    cheaper_plans,
    check_plan_change,
    drops_promo,
    pricier_plans,
    quote_plan_change,
    sign_review,
)
from ..clinic_time import format_day
from ..errors import ActionError
from ..models import Plan
from ..money import format_money
from .action_forms import ActionForm
from .action_pages import load_record


class ChoosePlanForm(ActionForm):
    plan = SelectField("Plan", coerce=int)


class UpgradeForm(ActionForm):
    review_token = HiddenField()


class DowngradeForm(UpgradeForm):
    when = RadioField("When", default="period_end", choices=[
        ("period_end", "At period end (default): nothing is charged or credited now"),
        ("now", "Now: the unused time of the price difference is credited")])
    credit_as = RadioField("Credit the unused time (when applying now)", default="account_credit",
                           choices=[("account_credit", "As account credit"),
                                    ("refund", "As a refund of the period payment")])


def _plan_line(plan: Plan) -> str:
    services = ", ".join(str(line) for line in plan.services) or "no services"
    return f"{plan.name} · {format_money(plan.price_minor, plan.currency)} · {services}"


class PlanChangeActionsMixin:
    """Mixed into ``SubscriptionView`` after ``SubscriptionPagesMixin``."""

    @expose("/upgrade/", methods=("GET", "POST"))
    def upgrade_view(self):
        return self._plan_change_page(is_upgrade=True)

    @expose("/downgrade/", methods=("GET", "POST"))
    def downgrade_view(self):
        return self._plan_change_page(is_upgrade=False)

    def _plan_change_page(self, *, is_upgrade: bool):
        verb = "upgrade" if is_upgrade else "downgrade"
        page = self.open_subscription_page(f"{verb} subscriptions")
        sub = page.record
        if request.args.get("plan") is None:
            return self._choose_plan(page, is_upgrade=is_upgrade)
        choose = url_for(f".{verb}_view", id=sub.id, url=request.args.get("url"))
        plan = load_record(self, model=Plan, arg="plan", otherwise=choose)
        try:
            check_plan_change(sub, plan, is_upgrade=is_upgrade)
        except ActionError as refused:
            flash(refused.message, "error")
            return redirect(choose)
        form = UpgradeForm() if is_upgrade else DowngradeForm()
        done = page.submit(form, lambda key: self._change_plan(sub, plan, form, key, is_upgrade))
        if done is not None:
            return done
        quote = quote_plan_change(sub, plan)
        form.review_token.data = sign_review(quote)
        return page.render(title=f"{verb.capitalize()} {sub} to {plan}",
                           intro="Review the new subscription plan details and what happens "
                                 f"now, then click {verb.capitalize()}.",
                           facts=self._review_facts(quote, is_upgrade=is_upgrade),
                           warnings=self._review_warnings(quote, is_upgrade=is_upgrade),
                           form=form, submit_label=verb.capitalize())

    @staticmethod
    def _change_plan(sub, plan, form, key: str, is_upgrade: bool):
        common = {"new_plan": plan, "review_token": form.review_token.data,
                  "actor": current_user, "idempotency_key": key}
        if is_upgrade:
            return upgrade_subscription(sub, **common)
        return downgrade_subscription(sub, when=form.when.data, credit_as=form.credit_as.data,
                                      **common)

    def _choose_plan(self, page, *, is_upgrade: bool):
        sub, verb = page.record, "upgrade" if is_upgrade else "downgrade"
        plans = pricier_plans(sub) if is_upgrade else cheaper_plans(sub)
        if not plans:
            flash(f"There is no active {'pricier' if is_upgrade else 'cheaper'} plan in "
                  f"{sub.plan.currency} billed per {sub.plan.interval.value} to {verb} "
                  f"{sub} to.", "info")
            return redirect(page.back)
        form = ChoosePlanForm()
        form.plan.choices = [(plan.id, _plan_line(plan)) for plan in plans]
        if form.validate_on_submit():
            return redirect(url_for(f".{verb}_view", id=sub.id, plan=form.plan.data,
                                    url=request.args.get("url")))
        return page.render(title=f"{verb.capitalize()} {sub}",
                           intro=f"Select the subscription plan you want to {verb} to.",
                           facts=self.subscription_facts(sub), form=form,
                           submit_label="Review")

    @staticmethod
    def _review_facts(quote: PlanChangeQuote, *, is_upgrade: bool) -> list[tuple[str, str]]:
        sub, plan, p = quote.subscription, quote.new_plan, quote.proration
        money = lambda amount: format_money(amount, plan.currency)  # noqa: E731
        facts = [("Contact", sub.contact.full_name),
                 ("Current plan", _plan_line(sub.plan)),
                 ("New plan", plan.name),
                 ("Price", f"{money(plan.price_minor)} per {plan.interval.value}"),
                 ("Services (credits per period)",
                  ", ".join(str(line) for line in plan.services) or "none"),
                 ("One time activation fee", f"{money(plan.activation_fee_minor)} (not charged "
                                             "on a plan change)"),
                 ("Current period", f"{format_day(sub.current_period_start)} – "
                                    f"{format_day(sub.current_period_end)} "
                                    f"({p.share.describe()} left)"),
                 (f"Credit for the unused time of {sub.plan}", f"−{money(p.credit_minor)}"),
                 (f"{plan} for the rest of the period", money(p.charge_minor))]
        if is_upgrade:
            card = default_card(sub.contact)
            facts.append(("Charged now", f"{money(p.net_minor)} to "
                                         f"{card or 'the default card (none saved!)'}"))
            facts.append(("Credits now", describe_credit_changes(quote.credits)))
            return facts
        payment = period_payment(sub)
        facts += [("Credited if applied now", f"{money(-p.net_minor)} (as account credit, or "
                   + (f"refunded from payment #{payment.id})" if payment
                      else "no period payment to refund)")),
                  ("Credits if applied now", describe_credit_changes(quote.credits)),
                  ("If applied at period end", f"switches on {format_day(sub.current_period_end)}"
                                               "; nothing charged or credited")]
        return facts

    @staticmethod
    def _review_warnings(quote: PlanChangeQuote, *, is_upgrade: bool) -> list[str]:
        sub, warnings = quote.subscription, []
        if sub.scheduled_plan is not None:
            warnings.append(f"This replaces the scheduled change to {sub.scheduled_plan}."
                            if not is_upgrade else
                            f"Upgrading drops the scheduled change to {sub.scheduled_plan}.")
        if drops_promo(sub, quote.new_plan):
            warnings.append(f"Promo code {sub.promo_code} does not apply to {quote.new_plan}: "
                            "it is removed when the plan switches.")
        if is_upgrade and default_card(sub.contact) is None and quote.proration.net_minor > 0:
            warnings.append(f"{sub.contact} has no saved card: add one under Payment methods "
                            "first.")
        return warnings

    @expose("/cancel-scheduled-change/", methods=("GET", "POST"))
    def cancel_scheduled_view(self):
        page = self.open_subscription_page("change subscriptions")
        sub = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: cancel_scheduled_change(
            sub, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        scheduled = sub.scheduled_plan
        return page.render(title=f"Cancel the scheduled change of {sub}",
                           intro=f"The subscription will renew on {sub.plan} instead of "
                                 f"switching to {scheduled or 'another plan'}.",
                           facts=self.subscription_facts(sub)
                           + [("Scheduled plan change", str(scheduled or "none"))],
                           form=form, submit_label="Cancel scheduled change",
                           cancel_label="Keep the scheduled change")
