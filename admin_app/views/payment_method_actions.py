"""Payment methods → ⋯ → Make default / Remove, also on the contact card's Payment methods
tab, and that tab's "Send payment-method link" page (copy the member's link, or queue it to
them by Email / SMS) (workflow 9)."""

from __future__ import annotations

from flask import has_request_context, request, url_for
from flask_admin import expose
from flask_login import current_user

from ..actions.remove_payment_method import remove_payment_method
from ..actions.send_payment_method_link import send_payment_method_link
from ..actions.set_default_payment_method import set_default_payment_method
from ..billing.charging import default_card
from ..billing.payment_method_links import describe_max_age, payment_method_link_url
from ..models import Contact, PaymentMethod
from .action_forms import ActionForm
from .action_pages import ActionPage, contact_tab
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

    def _open_card_page(self) -> ActionPage:
        return ActionPage.open(self, doing="change payment methods",
                               back=contact_tab("payment_methods"),
                               gone="That card was already removed.")

    def _card_facts(self, method: PaymentMethod) -> list[tuple[str, str]]:
        return [("Contact", method.contact.full_name), ("Card", method.display_name),
                ("Expires", method.expiry), ("Default", "yes" if method.is_default else "no")]

    @expose("/make-default/", methods=("GET", "POST"))
    def make_default_view(self):
        page = self._open_card_page()
        method = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: set_default_payment_method(
            method, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        return page.render(title=f"Make {method.display_name} the default card",
                           intro="Subscriptions, custom bills and no-show fees charge the "
                                 "default card.",
                           facts=self._card_facts(method), form=form,
                           submit_label="Make default")

    @expose("/remove/", methods=("GET", "POST"))
    def remove_card_view(self):
        page = self._open_card_page()
        method = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: remove_payment_method(
            method, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        warnings = ["This is the default card: after removing it, subscriptions and fees "
                    "cannot be charged until another card is made the default."
                    ] if method.is_default else []
        return page.render(title=f"Remove {method.display_name}",
                           intro="The card is detached at the payment processor and removed "
                                 "here.",
                           facts=self._card_facts(method), warnings=warnings, form=form,
                           submit_label="Remove card", is_danger=True)

    @expose("/link/", methods=("GET", "POST"))
    def payment_method_link_view(self):
        """The member's payment-method link of ``?contact_id=``: copy it, or send it."""
        page = ActionPage.open(self, doing="send payment-method links", model=Contact,
                               arg="contact_id", back=contact_tab("payment_methods"))
        contact = page.record
        form = ActionForm()
        done = page.submit(form, lambda key: send_payment_method_link(
            contact, actor=current_user, idempotency_key=key))
        if done is not None:
            return done
        card = default_card(contact)
        sent_to = (f"Email: {contact.email}" if contact.email else
                   f"SMS: {contact.phone}" if contact.phone else None)
        warnings = [] if sent_to else [f"{contact} has no email address or phone number: "
                                       "copy the link and give it to them."]
        return page.render(
            "admin/payment_method_link.html", title=f"Payment-method link for {contact}",
            intro="The member opens this link to add or update their card themselves; the "
                  "card they save becomes their default. Each link works for "
                  f"{describe_max_age()}, and can be used more than once until then.",
            facts=[("Contact", contact.full_name), ("Card on file", str(card) if card else
                                                    "none"),
                   ("Send to", sent_to or "—")],
            warnings=warnings, public_url=payment_method_link_url(contact),
            form=form if sent_to else None, submit_label="Send payment-method link")
