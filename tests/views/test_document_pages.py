"""Cashier → Accounting documents: the page as it prints, Download PDF, delivery history."""

from __future__ import annotations

from admin_app.extensions import db
from tests.documents.pdf_text import pdf_text
from tests.factories import cashier_settings_form, make_contact, make_document


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


def test_outbox_shows_the_message_as_the_member_sees_it(client, login, app):
    from admin_app.documents import queue_delivery
    from admin_app.documents.sending import deliver
    from admin_app.models import DeliveryChannel, OutboxItem

    login("cashier")
    document = make_document(contact=make_contact(first_name="Grace", email="g@example.com"),
                             issued_number=4)
    message = queue_delivery(document, DeliveryChannel.EMAIL)
    db.session.commit()
    deliver(message.id)
    item = db.session.query(OutboxItem).one()
    listing = client.get("/admin/outbox/").get_data(as_text=True)
    assert "g@example.com" in listing and "INV-000004" in listing
    page = client.get(f"/admin/outbox/details/?id={item.id}").get_data(as_text=True)
    assert "Hello Grace" in page and "invoice-INV-000004.pdf" in page
    attachment = client.get(f"/admin/outbox/attachment/?id={item.id}&n=0")
    assert attachment.mimetype == "application/pdf"
    assert "INV-000004" in pdf_text(attachment.data)[0]
    assert client.get(f"/admin/outbox/attachment/?id={item.id}&n=9").status_code == 404
    history = client.get(f"/admin/document/details/?id={document.id}").get_data(as_text=True)
    assert "Delivery history" in history and "outbox" in history and "Sent" in history


def test_logo_upload_prints_on_documents(client, login, app):
    import base64
    import io

    from admin_app.models import CashierSettings

    login("owner")
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
                           "DwADhgGAWjR9awAAAABJRU5ErkJggg==")
    CashierSettings.get()
    db.session.commit()
    form = cashier_settings_form()
    refused = client.post("/admin/cashier_settings/edit/?id=1", data={
        **form, "logo_upload": (io.BytesIO(b"GIF89a..."), "logo.gif")},
        content_type="multipart/form-data")
    assert "must be a PNG or JPEG" in refused.get_data(as_text=True)
    client.post("/admin/cashier_settings/edit/?id=1", data={
        **form, "logo_upload": (io.BytesIO(png), "logo.png")},
        content_type="multipart/form-data")
    db.session.expire_all()
    assert CashierSettings.get().logo == png
    document = make_document(issued_number=9)
    db.session.commit()
    page = client.get(f"/admin/document/details/?id={document.id}").get_data(as_text=True)
    assert 'class="doc-logo" src="data:image/png;base64,' in page
    client.post("/admin/logout")
    served = client.get("/logo")  # the members' pages (sign-up, a document's link) link here
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png


def test_no_logo_is_a_404_for_members(client, app):
    from admin_app.models import CashierSettings

    CashierSettings.get()
    db.session.commit()
    assert client.get("/logo").status_code == 404


def test_send_selected_and_download_selected_as_zip(client, login, app):
    import io
    import zipfile

    from admin_app.models import OutboundMessage

    login("cashier")
    issued = [make_document(issued_number=n) for n in (1, 2)]
    draft = make_document()
    db.session.commit()
    ids = [str(d.id) for d in (*issued, draft)]
    client.post("/admin/document/action/", data={"action": "send_documents", "rowid": ids,
                                                  "url": "/admin/document/"})
    sent = db.session.query(OutboundMessage).all()
    assert sorted(m.document_id for m in sent) == sorted(d.id for d in issued)
    response = client.post("/admin/document/action/", data={
        "action": "download_zip", "rowid": ids, "url": "/admin/document/"})
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert sorted(names) == ["invoice-INV-000001.pdf", "invoice-INV-000002.pdf"]


def test_large_zip_is_made_on_the_worker(client, login, app, tmp_path):
    import io
    import zipfile

    from admin_app.jobs.engine import huey

    login("viewer")
    app.config["ZIP_INLINE_MAX"] = 1
    documents = [make_document(issued_number=n) for n in (1, 2, 3)]
    db.session.commit()
    response = client.post("/admin/document/action/", data={
        "action": "download_zip", "rowid": [str(d.id) for d in documents],
        "url": "/admin/document/"})
    assert response.status_code == 302 and "/admin/document/zip/" in response.location
    waiting = client.get(response.location)
    assert "being made by the worker" in waiting.get_data(as_text=True)
    task = huey.dequeue()  # the worker's part, run here: the task the page queued
    assert task.name == "zip_documents"
    huey.execute(task)
    ready = client.get(response.location)
    assert ready.mimetype == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(ready.data)).namelist()) == 3
    assert client.get("/admin/document/zip/../../etc").status_code == 404


def test_a_zip_is_kept_seven_days_then_removed_and_its_page_says_so(client, login, app):
    """The worker's daily task removes the zips asked for more than 7 days ago (and a
    half-written one, and one named before names said when, by its age), keeps the others,
    and runs twice without harm; the page of a removed zip says it expired instead of
    waiting for it."""
    import os
    from datetime import UTC, datetime, timedelta

    from admin_app.clock import freeze
    from admin_app.documents.archive import exports_dir, new_export_name
    from admin_app.jobs.tasks import remove_expired_zips_now

    login("viewer")
    asked = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    freeze(asked)
    try:
        old, partial = new_export_name(), new_export_name()
        freeze(asked + timedelta(days=6))
        recent = new_export_name()
        folder = exports_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for path in (folder / old, folder / f".{partial}.part", folder / recent):
            path.write_bytes(b"PK")
        unnamed = folder / f"documents-{'0' * 32}.zip"  # named before names said when
        unnamed.write_bytes(b"PK")
        written = (asked - timedelta(days=1)).timestamp()
        os.utime(unnamed, (written, written))
        freeze(asked + timedelta(days=7, minutes=1))
        assert client.get(f"/admin/document/zip/{recent}").mimetype == "application/zip"
        assert remove_expired_zips_now() == "3 expired zip(s) of documents removed."
        ran = app.test_cli_runner().invoke(args=["documents", "remove-expired-zips"])
        assert ran.exit_code == 0 and ran.output.strip() == "Nothing expired."
        assert (folder / recent).exists() and not (folder / old).exists()
        page = client.get(f"/admin/document/zip/{old}").get_data(as_text=True)
        assert "This download has expired" in page and 'http-equiv="refresh"' not in page
    finally:
        freeze(None)
        (exports_dir() / recent).unlink(missing_ok=True)


def test_an_invoice_menu_says_what_account_credit_pays_first(client, login, app):
    from admin_app.billing.account_credit import add_account_credit_entry
    from admin_app.models import AccountCreditReason
    from tests.factories import make_admin

    login("cashier")
    document = make_document(issued_number=9)
    db.session.commit()
    add_account_credit_entry(document.contact_id, amount_minor=2000, currency="USD",
                             reason=AccountCreditReason.MANUAL, note="Goodwill",
                             actor=make_admin(role="owner"))
    db.session.commit()
    page = client.get("/admin/document/").get_data(as_text=True)
    assert "$20.00 is paid from account credit first. Record $30.00 received by cash" in page
