"""Finding people from the top bar, the Contacts list and a contact picker in a real browser:
a full name typed in any order, a surname of several words, a phone number as it is written."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from admin_app.extensions import db
from admin_app.models import Contact
from tests.browser.test_contact_card import sign_in


def _people(app) -> None:
    with app.app_context():
        db.session.add_all([
            Contact(first_name="Nora", last_name="Reed", email="nora.reed@example.org",
                    phone="+1 617 555 0188"),
            Contact(first_name="Nora", last_name="Vance", email="nv@example.org"),
            Contact(first_name="Chloe", last_name="Van der Berg", email="chloe@example.org",
                    phone="(555) 0135"),
            Contact(first_name="Chloe", last_name="Smith", email="cs@example.org"),
        ])
        db.session.commit()
        db.session.remove()


def test_full_names_and_multi_word_surnames_from_the_top_bar_list_and_picker(
        page: Page, live_server, shot):
    _people(live_server.app)
    sign_in(page, live_server)
    search = page.locator("#quick-search")
    suggestions = page.locator("#quick-search-results .suggestion")

    search.fill("nor ree")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Nora Reed")
    shot(page, "find_people_01_full_name_suggestion")

    search.fill("berg chloe")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Chloe Van der Berg")
    shot(page, "find_people_02_multi_word_surname_suggestion")

    search.fill("555-0135")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Chloe Van der Berg")
    search.press("Enter")
    expect(page.locator("h2#contact-name")).to_contain_text("Chloe Van der Berg")

    page.goto(f"{live_server.url}/admin/contact/?search=Chloe+Van+der+Berg")
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Van der Berg")
    shot(page, "find_people_03_contacts_list_search")

    page.goto(f"{live_server.url}/admin/subscription/new/")
    page.locator("#s2id_contact, .select2-container").first.click()
    typed = page.locator(".select2-drop-active input.select2-input, "
                         ".select2-search__field").first
    typed.fill("van der chl")
    choices = page.locator(".select2-results li.select2-result-selectable, "
                           ".select2-results__option")
    expect(choices).to_have_count(1)
    expect(choices.first).to_have_text(re.compile("Chloe Van der Berg"))
    shot(page, "find_people_04_contact_picker")
