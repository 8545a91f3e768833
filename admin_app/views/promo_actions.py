"""Subscriptions → ⋯ → Apply Promo and Subscriptions list → With selected → Apply Promo
(workflow 8). One set of rules for both, and for a code chosen on the new-subscription form:
``billing.promo_rules``."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, SelectField

from ..actions.apply_promo import apply_promo
from ..billing.promo_rules import (
    check_promo,
    describe_promo,
    find_promo,
    unusable_reason,
    upcoming_prices,
)
from ..errors import ActionError
from ..extensions import db
from ..models import PromoCode, Subscription
from ..money import format_money
from .action_forms import ActionForm
from .bulk_pages import BulkFlow

CHOICES_SHOWN = 200


def _shown_promos() -> list[PromoCode]:
    return list(db.session.scalars(select(PromoCode).order_by(PromoCode.is_active.desc(),
                                                              PromoCode.code)
                                   .limit(CHOICES_SHOWN)))


def promo_label(promo: PromoCode, reason: str | None = None) -> str:
    """How a picker lists a code: what it gives, the plans it is limited to, and, when it
    cannot be used, why ("SUMMER25 · 25% off, once — not usable: expired 01 Sep 2026")."""
    if reason:
        return f"{promo.code} · {describe_promo(promo)} — not usable: {reason}"
    only = f" · only for {', '.join(sorted(p.name for p in promo.plans))}" if promo.plans else ""
    return f"{promo.code} · {describe_promo(promo)}{only}"


def promo_choices(subscription: Subscription | None = None) -> list[tuple]:
    """Every code, usable ones first; those the rules refuse (for ``subscription``, or, with
    none, whatever the subscription: inactive, expired, used up) are greyed out with why."""
    marked = [(p, unusable_reason(p, subscription=subscription)) for p in _shown_promos()]
    marked.sort(key=lambda pair: pair[1] is not None)
    return [(p.code, promo_label(p, reason), {"disabled": True} if reason else {})
            for p, reason in marked]


class ChoosePromoForm(ActionForm):
    promo_code = SelectField("Promo code")

    def __init__(self, *args, subscription: Subscription | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.promo_code.choices = promo_choices(subscription)

    @property
    def has_usable_code(self) -> bool:
        return any(not render_kw for _code, _label, render_kw in self.promo_code.choices)


class PromoPickerField(QuerySelectField):
    """The new-subscription form's promo code: "No promo code", then every code as
    ``promo_label`` lists it; codes no subscription may take (inactive, expired, used up)
    greyed out with why (the plan's own rules are checked when the form is saved)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("query_factory", _shown_promos)
        kwargs["blank_text"] = "No promo code"
        super().__init__(*args, **kwargs)

    def iter_choices(self):
        if self.allow_blank:
            yield "__None", self.blank_text, self.data is None, {}
        for pk, promo in self._get_object_list():
            reason = unusable_reason(promo)
            yield (pk, promo_label(promo, reason), promo == self.data,
                   {"disabled": True} if reason else {})


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
        form = ChoosePromoForm(subscription=sub)
        if not form.promo_code.choices:
            flash("There are no promo codes yet: add one under Directories → Promo codes.",
                  "info")
            return redirect(page.back)
        if form.validate_on_submit():
            return redirect(url_for(".apply_promo_view", id=sub.id, code=form.promo_code.data,
                                    url=request.args.get("url")))
        warnings = [] if form.has_usable_code else [
            f"No promo code can be applied to {sub} now: each is listed with the reason."]
        return page.render(title=f"Apply Promo to {sub}",
                           intro="Choose the desired promo code; the next page shows its "
                                 "effect on the next invoices before it is applied.",
                           facts=self.subscription_facts(sub), form=form, warnings=warnings,
                           submit_label="Review")

    @action("apply_promo", "Apply Promo")
    def action_apply_promo(self, ids):
        return self.bulk_page(APPLY_PROMO, ids)
