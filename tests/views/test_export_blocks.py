"""SQLite's export written by several processes in blocks of keys (``views/csv_blocks``): the
same bytes as one process (``test_export`` compares every list), one snapshot, writers free
while it streams, no process left behind, a worker's failure reported, a text key left
whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, cast, func, select

from admin_app.extensions import db
from admin_app.models import Contact
from admin_app.views.csv_blocks import BlockSettings, block_lines, key_blocks
from tests.factories import make_contact

pytestmark = [pytest.mark.all_databases, pytest.mark.backends("sqlite")]

SPLIT = BlockSettings(workers=2, block_keys=1, from_keys=1)


def _workers_running() -> int:
    """Export worker processes on this database still running."""
    database = db.engine.url.database
    running = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"csv_block_worker.py") for a in arguments) \
                and database.encode() in arguments:
            running += 1
    return running


def _names(descending: bool = True, *, pad: int = 0):
    """Each contact's first name as its line (then "|" and ``pad`` zeros), in key order."""
    line = func.printf(f"%s|%0{pad}d", Contact.first_name, 0) if pad else Contact.first_name
    order = Contact.id.desc() if descending else Contact.id
    return select(cast(line, LargeBinary)).order_by(order)


def test_key_blocks_cover_the_range_once_in_the_lists_order():
    assert key_blocks(1, 10, 4, descending=False) == [(1, 4), (5, 8), (9, 10)]
    assert key_blocks(1, 10, 4, descending=True) == [(9, 10), (5, 8), (1, 4)]
    assert key_blocks(7, 7, 25_000, descending=True) == [(7, 7)]


def test_blocks_are_written_by_worker_processes_in_the_lists_order(app):
    made = [make_contact(first_name=f"Name{n}") for n in range(9)]
    db.session.commit()
    for descending in (True, False):
        lines = block_lines(db.engine, _names(descending), Contact.id,
                            descending=descending, settings=SPLIT)
        assert lines is not None  # split, however small the table, with these settings
        expected = [c.first_name for c in sorted(made, key=lambda c: c.id, reverse=descending)]
        assert b"".join(lines).decode().split("\r\n")[:-1][-9:] == expected


def test_a_small_table_or_one_process_is_not_split(app):
    make_contact()
    db.session.commit()
    statement = _names()
    assert block_lines(db.engine, statement, Contact.id, descending=True,
                       settings=BlockSettings(workers=2, block_keys=1,
                                              from_keys=10**9)) is None
    assert block_lines(db.engine, statement, Contact.id, descending=True,
                       settings=BlockSettings(workers=1, block_keys=1, from_keys=1)) is None


def test_a_list_sorted_by_a_text_key_is_exported_by_one_process(client, login, app,
                                                                monkeypatch):
    """Stripe events are keyed by Stripe's event id: sorted by it, the export is not split."""
    from admin_app.models import StripeEvent

    login("owner")
    db.session.add_all([StripeEvent(id=f"evt_{n}", type="charge.succeeded") for n in range(3)])
    db.session.commit()
    url = "/admin/stripe_event/export/csv/?sort=2"  # the event id's column
    whole = client.get(url).get_data(as_text=True)
    monkeypatch.setitem(app.config, "EXPORT_PROCESSES", 2)
    monkeypatch.setitem(app.config, "EXPORT_SPLIT_FROM_KEYS", 1)
    split = client.get(url)
    assert split.status_code == 200 and split.get_data(as_text=True) == whole
    assert [line.split(",")[2] for line in whole.splitlines()[1:]] == ["evt_0", "evt_1", "evt_2"]


def test_the_export_is_one_snapshot_and_writers_are_free_while_it_streams(app):
    """Lines of 100 kB fill the workers' pipes, so the later blocks are read after the
    changes below are committed: they still show the database as the export began."""
    contacts = [make_contact(first_name=f"Before{n}") for n in range(12)]
    db.session.commit()
    lines = block_lines(db.engine, _names(descending=True, pad=100_000), Contact.id,
                        descending=True, settings=SPLIT)
    first = next(lines)  # the workers have their snapshot; the newest block is on its way
    assert first.startswith(b"Before11")
    oldest = contacts[0]
    oldest.first_name = "Changed"
    make_contact(first_name="Added")
    db.session.commit()  # not blocked: the export holds no lock once it has begun
    written = first + b"".join(lines)
    names = [line.split(b"|")[0].decode() for line in written.split(b"\r\n")[:-1]]
    assert names[-12:] == [f"Before{n}" for n in reversed(range(12))]
    assert "Changed" not in names and "Added" not in names
    assert _workers_running() == 0


def test_an_abandoned_download_leaves_no_process_behind(app):
    for n in range(12):
        make_contact(first_name=f"Name{n}")
    db.session.commit()
    lines = block_lines(db.engine, _names(pad=100_000), Contact.id, descending=True,
                        settings=SPLIT)
    next(lines)
    assert _workers_running() == 2
    lines.close()  # what the web server does when the browser goes away
    assert _workers_running() == 0


def test_a_worker_that_fails_stops_the_download_with_its_reason(app):
    make_contact()
    db.session.commit()
    broken = select(cast(func.no_such_function(Contact.first_name), LargeBinary)).order_by(
        Contact.id.desc())
    lines = block_lines(db.engine, broken, Contact.id, descending=True, settings=SPLIT)
    with pytest.raises(RuntimeError, match="no such function"):
        b"".join(lines)
    assert _workers_running() == 0


def test_exports_through_the_panel_are_split_and_read_like_the_list(client, login, app,
                                                                    monkeypatch, demo_data):
    """With the export's settings from the app's configuration, filtered and searched lists
    too: their parameters (an IN list, clinic times, a search's prefixes) reach the workers as
    the panel binds them."""
    import subprocess

    from admin_app.views import csv_blocks

    login("owner")
    every_payment = "/admin/payment/export/csv/"
    failed_or_refunded = "/admin/payment/export/csv/?flt0_status_in_list=failed,refunded"
    exports = [every_payment, failed_or_refunded,
               "/admin/payment/export/csv/?sort=0",  # by ID, oldest first
               "/admin/admin_user/export/csv/?sort=0&desc=1",  # by ID: a table column
               "/admin/payment/export/csv/?flt0_date_between="
               "2020-01-01+00:00:00+to+2030-01-01+00:00:00",
               "/admin/contact/export/csv/?search=ma"]
    whole = {url: client.get(url).get_data() for url in exports}
    started = []
    popen = subprocess.Popen
    monkeypatch.setattr(csv_blocks.subprocess, "Popen",
                        lambda *args, **kwargs: started.append(args) or popen(*args, **kwargs))
    monkeypatch.setitem(app.config, "EXPORT_BLOCK_KEYS", 5)
    monkeypatch.setitem(app.config, "EXPORT_SPLIT_FROM_KEYS", 1)
    monkeypatch.setitem(app.config, "EXPORT_PROCESSES", 2)
    for url in exports:
        response = client.get(url)
        split = response.get_data()
        assert response.status_code == 200 and split == whole[url], url
        assert split.count(b"\n") > 3, url  # rows, not only the header
    assert len(started) == 2 * len(exports)  # each written by two workers
    payments = whole[every_payment].count(b"\n")
    assert payments > 100 and whole[failed_or_refunded].count(b"\n") < payments
    assert _workers_running() == 0
