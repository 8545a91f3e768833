"""Cashier → Accounting documents: the page as it prints, Download PDF, delivery history."""

from __future__ import annotations

from admin_app.extensions import db
from tests.documents.pdf_text import pdf_text
from tests.factories import make_contact, make_document


def test_document_page_shows_the_paper_and_its_actions(client, login, app):
    login("cashier")
    document = make_document(contact=make_contact(first_name="Grace", last_name="Hopper"),
                             issued_number=7)
    db.session.commit()
    page = client.get(f"/admin/document/details/?id={document.id}").get_data(as_text=True)
    assert "INV-000007" in page and "Grace Hopper" in page and "doc-paper" in page
    assert "DocumentLine" not in page  # no Python repr where the lines belong
    for label in ("Download PDF", "Send by Email", "Send by SMS", "Delivery history"):
        assert label in page


def test_download_pdf(client, login, app):
    login("viewer")
    document = make_document(issued_number=3)
    db.session.commit()
    response = client.get(f"/admin/document/pdf/?id={document.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text, pages = pdf_text(response.data)
    assert "INV-000003" in text and "$50.00" in text and pages == 1


def test_download_pdf_of_junk_id_is_not_a_500(client, login, app):
    login("viewer")
    for junk in ("abc", "999999", "1;1", "%00"):
        assert client.get(f"/admin/document/pdf/?id={junk}").status_code in (302, 400, 404)
