"""Subscriptions → ⋯ → Apply Promo and Subscriptions list → With selected → Apply Promo
(workflow 8). One set of rules for both, and for a code chosen on the new-subscription form:
``billing.promo_rules``."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, SelectField

from ..actions.apply_promo import apply_promo
from ..billing.promo_rules import check_promo, describe_promo, find_promo, upcoming_prices
from ..errors import ActionError
from ..extensions import db
from ..models import PromoCode
from ..money import format_money
from .action_forms import ActionForm
from .bulk_pages import BulkFlow

CHOICES_SHOWN = 200


def _promo_choices() -> list[tuple[str, str]]:
    """Every code, active ones first, each with what it gives (and why it may not apply)."""
    promos = db.session.scalars(select(PromoCode).order_by(PromoCode.is_active.desc(),
                                                           PromoCode.code)
                                .limit(CHOICES_SHOWN))
    return [(p.code, f"{p.code} · {describe_promo(p)}" + ("" if p.is_active else " (inactive)"))
            for p in promos]


class ChoosePromoForm(ActionForm):
    promo_code = SelectField("Promo code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.promo_code.choices = _promo_choices()


class ApplyPromoForm(ActionForm):
    promo_code = HiddenField()


APPLY_PROMO = BulkFlow(
    name="apply_promo", form=ChoosePromoForm, noun="subscriptions", doing="apply promo codes",
    title="Apply Promo to {count} subscriptions",
    intro="The same code for each selected subscription; those the code may not apply to are "
          "reported with the rule.",
    submit_label="Apply to {count} subscriptions", action="apply_promo",
    params=lambda form: {"promo_code": form.promo_code.data})


class PromoActionsMixin:
    """Mixed into ``SubscriptionView`` after ``SubscriptionPagesMixin``."""

    @expose("/apply-promo/", methods=("GET", "POST"))
    def apply_promo_view(self):
        page = self.open_subscription_page("apply promo codes")
        sub, code = page.record, request.args.get("code")
        promo = None
        if code:
            try:
                promo = find_promo(code)
                if request.method == "GET":  # a POST is checked by the action itself
                    check_promo(promo, sub)
            except ActionError as refused:
                flash(refused.message, "error")  # the rule that refused it, nothing changed
                promo = None
        if promo is None:
            return self._choose_promo(page)
        form = ApplyPromoForm(promo_code=promo.code)
        done = page.submit(form, lambda key: apply_promo(
            sub, promo_code=form.promo_code.data, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        money = lambda amounts: ", ".join(  # noqa: E731
            format_money(a, sub.plan.currency) for a in amounts)
        facts = self.subscription_facts(sub) + [
            ("Promo code", f"{promo.code} · {describe_promo(promo)}"),
            ("Next 3 invoices today", money(upcoming_prices(sub))),
            (f"Next 3 invoices with {promo.code}", money(upcoming_prices(sub, promo)))]
        warnings = [f"This replaces promo code {sub.promo_code} on the subscription."] \
            if sub.promo_code is not None else []
        if sub.scheduled_plan is not None:
            warnings.append(f"The next invoices are for {sub.scheduled_plan}, the scheduled "
                            "plan change.")
        return page.render(title=f"Apply Promo {promo} to {sub}",
                           intro="The discount applies to the next invoices for the code's "
                                 "duration.",
                           facts=facts, warnings=warnings, form=form, submit_label="Apply Promo")

    def _choose_promo(self, page):
        sub = page.record
        form = ChoosePromoForm()
        if not form.promo_code.choices:
            flash("There are no promo codes yet: add one under Directories → Promo codes.",
                  "info")
            return redirect(page.back)
        if form.validate_on_submit():
            return redirect(url_for(".apply_promo_view", id=sub.id, code=form.promo_code.data,
                                    url=request.args.get("url")))
        return page.render(title=f"Apply Promo to {sub}",
                           intro="Choose the desired promo code; the next page shows its "
                                 "effect on the next invoices before it is applied.",
                           facts=self.subscription_facts(sub), form=form,
                           submit_label="Review")

    @action("apply_promo", "Apply Promo")
    def action_apply_promo(self, ids):
        return self.bulk_page(APPLY_PROMO, ids)
