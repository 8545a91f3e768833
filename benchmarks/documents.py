"""Benchmark accounting documents: PDFs per second for one-page documents, and a bulk send of
1,000 receipts by email to a local SMTP server (aiosmtpd on loopback) by a real ``flask
worker`` process.

    python benchmarks/documents.py                    # 200 PDFs timed, 1,000 receipts sent
    python benchmarks/documents.py --pdfs 50 --receipts 200 --workers 2

It prints the PDF rate (after one warm-up render: WeasyPrint loads its fonts once), the time
from the commit that queued the receipts to the last one accepted by the SMTP server, the
messages per second, what the SMTP server received (each message once, each with its PDF),
and the worker's peak memory (its resident set size, read from the kernel).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Received:
    def __init__(self) -> None:
        self.count, self.with_pdf, self.ids = 0, 0, set()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.count += 1
        self.ids.add(message["Message-ID"])
        if any(p.get_content_type() == "application/pdf" for p in message.iter_attachments()):
            self.with_pdf += 1
        return "250 OK"


def _seed_receipts(count: int) -> list[int]:
    from sqlalchemy import insert, select

    from admin_app.documents import receipt_for_payment
    from admin_app.extensions import db
    from admin_app.models import Contact, Payment, PaymentPurpose, PaymentStatus

    db.session.execute(insert(Contact), [{"first_name": f"Member{n}", "last_name": "Bench",
                                          "email": f"m{n}@bench.example"} for n in range(count)])
    ids = []
    for contact_id in db.session.scalars(select(Contact.id).order_by(Contact.id)):
        payment = Payment(contact_id=contact_id, amount_minor=4500, currency="USD",
                          purpose=PaymentPurpose.CUSTOM_BILL, status=PaymentStatus.SUCCEEDED,
                          description="Pilates class")
        db.session.add(payment)
        db.session.flush()
        ids.append(receipt_for_payment(payment, description="Pilates class").id)
    db.session.commit()
    return ids


def _time_pdfs(document_ids: list[int], count: int) -> None:
    from admin_app.documents.rendering import render_pdf
    from admin_app.extensions import db
    from admin_app.models import Document

    render_pdf(db.session.get(Document, document_ids[0]))  # warm-up: fonts, stylesheet
    started = time.perf_counter()
    sizes = [len(render_pdf(db.session.get(Document, document_id)))
             for document_id in document_ids[:count]]
    elapsed = time.perf_counter() - started
    print(f"PDFs: {len(sizes)} one-page receipts in {elapsed:.2f} s = "
          f"{len(sizes) / elapsed:.1f} PDFs/s ({elapsed / len(sizes) * 1000:.0f} ms each, "
          f"{sum(sizes) / len(sizes) / 1024:.1f} KB each)")


def _bulk_send(env: dict, document_ids: list[int], workers: int) -> None:
    from aiosmtpd.controller import Controller
    from sqlalchemy import func, select

    from admin_app.documents import queue_delivery
    from admin_app.extensions import db
    from admin_app.models import DeliveryChannel, Document, MessageStatus, OutboundMessage

    received = _Received()
    port = _free_port()
    smtp = Controller(received, hostname="127.0.0.1", port=port)
    smtp.start()
    env = {**env, "SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "bench@clinic.example"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "admin_app", "worker",
                               "--workers", str(workers), "--no-periodic"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)  # the worker is up before the queue fills
    started = time.perf_counter()
    for document in db.session.scalars(select(Document).where(Document.id.in_(document_ids))):
        queue_delivery(document, DeliveryChannel.EMAIL)
    db.session.commit()  # each committed message is handed to the worker
    queued = time.perf_counter() - started
    peak_kb, sent = 0, 0
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        with open(f"/proc/{worker.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        sent = db.session.scalar(select(func.count()).select_from(OutboundMessage)
                                 .where(OutboundMessage.status == MessageStatus.SENT))
        db.session.remove()
        if sent >= len(document_ids):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    worker.kill()
    worker.wait()
    smtp.stop()
    print(f"bulk send: {len(document_ids):,} receipts by email, {workers} worker thread(s)")
    print(f"  queue them (one transaction)   {queued * 1000:8.0f} ms")
    print(f"  until the last was accepted    {elapsed:8.1f} s")
    print(f"  messages/s                     {sent / elapsed:8.1f}")
    print(f"  SMTP server received           {received.count:8,} "
          f"({len(received.ids):,} distinct, {received.with_pdf:,} with the PDF)")
    print(f"  worker peak RSS                {peak_kb / 1024:8.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--receipts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="documents-bench-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
           "JOBS_URL": f"sqlite:///{folder / 'jobs.sqlite3'}", "SECRET_KEY": "doc-benchmark",
           "ADMIN_APP_INSTANCE": str(folder)}
    os.environ.update(env)
    from flask_migrate import upgrade

    from admin_app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        ids = _seed_receipts(max(args.receipts, args.pdfs))
        print(f"seeded {len(ids):,} receipts in {time.perf_counter() - started:.1f} s "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        _time_pdfs(ids, args.pdfs)
        _bulk_send(env, ids[:args.receipts], args.workers)
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS {own_peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
