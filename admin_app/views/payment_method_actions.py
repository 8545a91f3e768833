"""Payment methods → ⋯ → Make default / Remove, also on the contact card's Payment methods
tab (workflow 9)."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user

from ..actions.remove_payment_method import remove_payment_method
from ..actions.set_default_payment_method import set_default_payment_method
from ..models import PaymentMethod
from .action_forms import ActionForm, new_idempotency_key, perform
from .action_messages import done_message
from .row_menu import MenuItem


class PaymentMethodActionsMixin:
    """Mixed into the Payment methods view."""

    details_template = "admin/model/actions_details.html"

    def details_menu_items(self, row) -> list[MenuItem]:
        """The actions shown on the record's details page."""
        return self.payment_method_menu_items(row)

    def payment_method_menu_items(self, row) -> list[MenuItem]:
        if not self.may_write:
            return []
        back = request.full_path if has_request_context() else None
        items = []
        if not row.is_default:
            items.append(MenuItem("Make default", url_for(
                f"{self.endpoint}.make_default_view", id=row.id, url=back), "fa-star"))
        items.append(MenuItem("Remove", url_for(f"{self.endpoint}.remove_card_view", id=row.id,
                                                url=back), "fa-trash", is_danger=True))
        return items

    def _card_and_back(self):
        method = self.get_one(request.args.get("id", ""))
        if method is None:
            flash("That card was already removed.", "error")
            return None, redirect(get_redirect_target() or url_for(".index_view"))
        back = get_redirect_target() or url_for("contact.details_view", id=method.contact_id,
                                                tab="payment_methods")
        if not self.may_write:
            flash(f"Your role ({current_user.role.label}) may not change payment methods.",
                  "error")
            return None, redirect(back)
        return method, back

    def _card_facts(self, method: PaymentMethod) -> list[tuple[str, str]]:
        return [("Contact", method.contact.full_name), ("Card", method.display_name),
                ("Expires", method.expiry), ("Default", "yes" if method.is_default else "no")]

    @expose("/make-default/", methods=("GET", "POST"))
    def make_default_view(self):
        method, back = self._card_and_back()
        if method is None:
            return back
        form = ActionForm()
        if form.validate_on_submit():
            done = perform(lambda: set_default_payment_method(
                method, actor=current_user, idempotency_key=form.idempotency_key.data),
                success=lambda done: done_message(
                    form.idempotency_key.data,
                    fallback=f"{done.display_name} is now the default card."))
            if done is not None:
                return redirect(back)
            form.idempotency_key.data = new_idempotency_key()
        return self.render("admin/action_form.html", title=f"Make {method.display_name} the "
                                                           "default card",
                           intro="Subscriptions, custom bills and no-show fees charge the "
                                 "default card.",
                           facts=self._card_facts(method), form=form,
                           submit_label="Make default", cancel_url=back)

    @expose("/remove/", methods=("GET", "POST"))
    def remove_card_view(self):
        method, back = self._card_and_back()
        if method is None:
            return back
        form = ActionForm()
        warnings = ["This is the default card: after removing it, subscriptions and fees "
                    "cannot be charged until another card is made the default."
                    ] if method.is_default else []
        if form.validate_on_submit():
            label = method.display_name
            contact = perform(lambda: remove_payment_method(
                method, actor=current_user, idempotency_key=form.idempotency_key.data),
                success=lambda contact: done_message(
                    form.idempotency_key.data, fallback=f"Removed {label} from {contact}."))
            if contact is not None:
                return redirect(back)
            form.idempotency_key.data = new_idempotency_key()
        return self.render("admin/action_form.html", title=f"Remove {method.display_name}",
                           intro="The card is detached at the payment processor and removed "
                                 "here.",
                           facts=self._card_facts(method), warnings=warnings, form=form,
                           submit_label="Remove card", cancel_url=back, is_danger=True)
