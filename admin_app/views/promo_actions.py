"""Subscriptions → ⋯ → Apply Promo, Subscriptions list → With selected → Apply Promo, and a
promo code chosen on the new-subscription form (workflow 8). One set of rules for all three:
``billing.promo_rules``."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, SelectField, ValidationError

from ..actions.apply_promo import apply_promo
from ..billing.promo_rules import (
    check_promo,
    describe_promo,
    find_promo,
    redeem_promo,
    upcoming_prices,
)
from ..errors import ActionError
from ..extensions import db
from ..models import PromoCode, Subscription, record_audit
from ..money import format_money
from .action_forms import ActionForm, perform
from .bulk import run_bulk, selected_ids

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


class BulkApplyPromoForm(ChoosePromoForm):
    subscription_ids = HiddenField()


class PromoActionsMixin:
    """Mixed into ``SubscriptionView`` after ``SubscriptionPagesMixin``."""

    @expose("/apply-promo/", methods=("GET", "POST"))
    def apply_promo_view(self):
        sub, back, refusal = self._open_subscription("apply promo codes")
        if refusal is not None:
            return refusal
        code = request.args.get("code")
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
            return self._choose_promo(sub, back)
        form = ApplyPromoForm(promo_code=promo.code)
        if form.validate_on_submit():
            result = perform(lambda: apply_promo(sub, promo_code=form.promo_code.data,
                                                 actor=current_user,
                                                 idempotency_key=form.idempotency_key.data))
            response = self._after_action(result, form, back)
            if response is not None:
                return response
            db.session.refresh(sub)
        money = lambda amounts: ", ".join(  # noqa: E731
            format_money(a, sub.plan.currency) for a in amounts)
        facts = self._subscription_facts(sub) + [
            ("Promo code", f"{promo.code} · {describe_promo(promo)}"),
            ("Next 3 invoices today", money(upcoming_prices(sub))),
            (f"Next 3 invoices with {promo.code}", money(upcoming_prices(sub, promo)))]
        warnings = [f"This replaces promo code {sub.promo_code} on the subscription."] \
            if sub.promo_code is not None else []
        if sub.scheduled_plan is not None:
            warnings.append(f"The next invoices are for {sub.scheduled_plan}, the scheduled "
                            "plan change.")
        return self.render("admin/action_form.html", title=f"Apply Promo {promo} to {sub}",
                           intro="The discount applies to the next invoices for the code's "
                                 "duration.",
                           facts=facts, warnings=warnings, form=form,
                           submit_label="Apply Promo", cancel_url=back)

    def _choose_promo(self, sub, back: str):
        form = ChoosePromoForm()
        if not form.promo_code.choices:
            flash("There are no promo codes yet: add one under Directories → Promo codes.",
                  "info")
            return redirect(back)
        if form.validate_on_submit():
            return redirect(url_for(".apply_promo_view", id=sub.id, code=form.promo_code.data,
                                    url=request.args.get("url")))
        return self.render("admin/action_form.html", title=f"Apply Promo to {sub}",
                           intro="Choose the desired promo code; the next page shows its "
                                 "effect on the next invoices before it is applied.",
                           facts=self._subscription_facts(sub), form=form,
                           submit_label="Review", cancel_url=back)

    @action("apply_promo", "Apply Promo")
    def action_apply_promo(self, ids):
        ticked = selected_ids(self, ids)
        form = BulkApplyPromoForm(formdata=None, subscription_ids=",".join(map(str, ticked)))
        return self._render_bulk_promo(form, len(ticked))

    def _render_bulk_promo(self, form, count: int):
        return self.render("admin/action_form.html", title=f"Apply Promo to {count} "
                                                           "subscriptions",
                           intro="The same code for each selected subscription; those the "
                                 "code may not apply to are reported with the rule.",
                           facts=[], form=form, submit_label=f"Apply to {count} subscriptions",
                           form_action=url_for(".apply_promo_bulk_view"),
                           cancel_url=url_for(".index_view"))

    @expose("/apply-promo-bulk/", methods=("POST",))
    def apply_promo_bulk_view(self):
        form = BulkApplyPromoForm()
        ids = [int(i) for i in (form.subscription_ids.data or "").split(",") if i.strip()]
        if not form.validate_on_submit():
            return self._render_bulk_promo(form, len(ids))

        def apply_one(subscription_id: int, key: str):
            subscription = db.session.get(Subscription, subscription_id)
            if subscription is None:
                raise ActionError("not_found", "That subscription no longer exists.")
            return apply_promo(subscription, promo_code=form.promo_code.data,
                               actor=current_user, idempotency_key=key)

        run_bulk(ids, apply_one, bulk_key=form.idempotency_key.data, done_word="applied")
        return redirect(url_for(".index_view"))

    # --- the new-subscription form --------------------------------------------------------
    def get_edit_form(self):
        """The promo code changes only through Apply Promo, never by editing the record."""
        form_class = super().get_edit_form()
        if hasattr(form_class, "promo_code"):
            delattr(form_class, "promo_code")
        return form_class

    def on_model_change(self, form, model, is_created):
        """A promo code chosen on the new-subscription form is checked by the Apply Promo
        rules and redeemed in the same transaction as the new subscription."""
        promo = model.promo_code if is_created else None
        if promo is not None:
            model.promo_code = None  # set by the redemption, once the rules allow it
        super().on_model_change(form, model, is_created)
        if promo is None:
            return
        try:
            redemption = redeem_promo(promo, model, actor=current_user)
        except ActionError as refused:
            raise ValidationError(refused.message) from None
        record_audit(actor=current_user, action="apply_promo", target=model,
                     summary=f"Promo code {promo} ({describe_promo(promo)}) applied when "
                             f"subscription {model} was created.",
                     after={"promo_code_id": promo.id,
                            "promo_periods_left": model.promo_periods_left,
                            "promo_redemption_id": redemption.id})
