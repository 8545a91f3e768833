"""SQLite's CSV export of a list sorted by its key, written by several processes at once.

SQLite runs a query on one core. Writing each row's finished line (``csv_lines``) costs it
about three times what reading the raw columns does, so one process exports at about 0.3× the
speed of ``sqlite3 -csv``. Here the key range is cut into blocks (``block_keys`` ids each);
worker processes (``csv_block_worker``, one per core) each read every ``workers``-th block and
the panel sends the blocks on in the list's order. Threads would not help: every row becomes
a Python object under the interpreter's lock, and SQLite's allocator takes a process-wide lock.

**One snapshot.** The export is what the database held when it began, as a single query
would be: the panel takes SQLite's write lock (``BEGIN IMMEDIATE``: nothing can commit), reads
the key range, hands each worker its blocks, waits until every worker's read transaction has
started, then lets go. Writers wait those few milliseconds (they have a busy timeout) and are
not blocked after that (write-ahead logging).

**Flat memory.** A worker reads a block, writes it to its pipe and only then reads its next
one; the pipe holds what the download has not taken yet. When the download ends early the
workers are killed.
"""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, and_, bindparam

from ..extensions import SQLITE_BUSY_TIMEOUT_S
from .bound_sql import bound_sql
from .csv_block_worker import GO, PINNED, READY

WORKER_SCRIPT = Path(__file__).with_name("csv_block_worker.py")
# Bytes of a block passed on to the download at once.
PIECE_BYTES = 1 << 20


@dataclass(frozen=True)
class BlockSettings:
    """How an export is split: ``workers`` processes (0 or 1: no split), blocks of
    ``block_keys`` consecutive keys, split only when the table's key range spans at least
    ``from_keys`` keys."""

    workers: int
    block_keys: int
    from_keys: int


def key_blocks(low: int, high: int, size: int, *, descending: bool) -> list[tuple[int, int]]:
    """The inclusive key ranges ``size`` keys long that cover ``low``..``high``, in the
    list's order."""
    blocks = [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]
    return blocks[::-1] if descending else blocks


def database_file(engine) -> str | None:
    """The SQLite file ``engine`` opens, or None (another database, memory, a URI)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return database


def _compiled_block_query(engine, statement, key) -> tuple[str, object]:
    """The SQL of ``statement`` restricted to one block of keys (its IN lists expanded), and
    a function giving its positional parameters for a block, processed as ``execute()``
    would."""
    block = statement.where(and_(key >= bindparam("block_low", 0),
                                 key <= bindparam("block_high", 0)))
    compiled, values = bound_sql(block, engine.dialect)
    names = list(compiled.positiontup)
    low_at, high_at = names.index("block_low"), names.index("block_high")
    fixed = [values[name] for name in names]

    def parameters(low: int, high: int) -> list:
        block_values = list(fixed)
        block_values[low_at], block_values[high_at] = low, high
        return block_values

    return compiled.string, parameters


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, database: str):
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT), database,
             str(SQLITE_BUSY_TIMEOUT_S * 1000)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def expect(self, signal: bytes) -> None:
        if self.process.stdout.read(len(signal)) != signal:
            self.failed()

    def start(self, sql: str, blocks: Sequence[list]) -> None:
        pickle.dump({"sql": sql, "blocks": list(blocks)}, self.process.stdin)
        self.process.stdin.write(GO)
        self.process.stdin.flush()

    def block_pieces(self) -> Iterator[bytes]:
        """The worker's next block, in pieces of at most ``PIECE_BYTES``."""
        header = self.process.stdout.read(8)
        if len(header) != 8:
            self.failed()
        left = int.from_bytes(header, "big")
        while left:
            piece = self.process.stdout.read(min(left, PIECE_BYTES))
            if not piece:
                self.failed()
            left -= len(piece)
            yield piece

    def failed(self):
        self.process.kill()
        self.process.wait()
        reason = self.process.stderr.read().decode(errors="replace").strip()
        raise RuntimeError(f"an export process stopped: {reason or 'no reason given'}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            pipe.close()


def _key_range(connection: sqlite3.Connection, table: str,
               key: str) -> tuple[int | None, int | None]:
    """The lowest and highest key, each read from one end of the key's index (SQLite does
    that only for a query with a single min() or max(): both in one read the whole table)."""
    return connection.execute(f'SELECT (SELECT min("{key}") FROM "{table}"), '
                              f'(SELECT max("{key}") FROM "{table}")').fetchone()


def block_lines(engine, statement, key, *, descending: bool,
                settings: BlockSettings) -> Iterator[bytes] | None:
    """The CSV lines of ``statement`` (one line a row, ordered by ``key`` alone) written by
    worker processes block by block, or None when the export is not worth splitting (a small
    table, one core, not a SQLite file) or cannot be (a key that is not a whole number: its
    range cannot be cut into blocks)."""
    database = database_file(engine)
    table, key_name = key.table.name, key.name
    if database is None or settings.workers < 2 or not isinstance(key.type, Integer):
        return None
    with closing(sqlite3.connect(database)) as probe:
        low, high = _key_range(probe, table, key_name)
    if low is None or high - low + 1 < settings.from_keys:
        return None
    return _lines(database, engine, statement, key, descending, settings)


def _lines(database: str, engine, statement, key, descending: bool,
           settings: BlockSettings) -> Iterator[bytes]:
    sql, parameters = _compiled_block_query(engine, statement, key)
    workers: list[_Worker] = []
    try:
        workers = [_Worker(database) for _ in range(settings.workers)]
        for worker in workers:
            worker.expect(READY)
        lock = sqlite3.connect(database, isolation_level=None,
                               timeout=SQLITE_BUSY_TIMEOUT_S)
        try:
            lock.execute("BEGIN IMMEDIATE")  # nothing commits until every worker has its snapshot
            low, high = _key_range(lock, key.table.name, key.name)
            blocks = key_blocks(low, high, settings.block_keys, descending=descending) \
                if low is not None else []
            for number, worker in enumerate(workers):
                worker.start(sql, [parameters(*block)
                                   for block in blocks[number::len(workers)]])
            for worker in workers:
                worker.expect(PINNED)
        finally:
            lock.rollback()
            lock.close()
        for number in range(len(blocks)):
            yield from workers[number % len(workers)].block_pieces()
    finally:
        for worker in workers:
            worker.stop()

