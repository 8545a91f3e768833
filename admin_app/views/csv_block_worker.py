"""One process of a parallel SQLite export (``csv_blocks``): it writes the CSV lines of the
key blocks it is given, in their order, to its standard output.

Run as a script by path (``python -I csv_block_worker.py``), not imported: it needs only the
standard library, so it starts in milliseconds instead of importing the panel.

The conversation, on its standard input and output:

1. arguments: the database file and its busy timeout in milliseconds;
2. out: ``READY`` once connected;
3. in: the job, pickled (the SQL of one block, each of its blocks' parameters), then ``GO``
   (the panel holds the database's write lock meanwhile, so that every worker's snapshot is
   the same one);
4. out: ``PINNED`` once its read transaction has started: it reads every block from that
   snapshot;
5. out, for each block: its size (8 bytes, big-endian) and its lines, each ending in "\\r\\n".
   A block is written whole once it is read, so the worker computes the next one while the
   panel still sends this one; the pipe's buffer is the only queue, so memory stays flat.

A failure ends the process with a non-zero status and the reason on standard error.
"""

import pickle
import re
import sqlite3
import sys

READY, GO, PINNED = b"R", b"G", b"P"


def _regexp(pattern, text):
    """SQLite's REGEXP, as the panel's driver defines it (SQLAlchemy's pysqlite dialect)."""
    return None if text is None else re.search(pattern, text) is not None


def main() -> None:
    database, busy_timeout_ms = sys.argv[1], int(sys.argv[2])
    out = sys.stdout.buffer
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    connection.execute("PRAGMA query_only=ON")
    connection.create_function("regexp", 2, _regexp, deterministic=True)
    out.write(READY)
    out.flush()
    job = pickle.load(sys.stdin.buffer)
    if sys.stdin.buffer.read(1) != GO:
        return  # the panel went away before the export began
    connection.execute("BEGIN")
    connection.execute("SELECT count(*) FROM sqlite_schema").fetchall()  # the snapshot
    out.write(PINNED)
    out.flush()
    for parameters in job["blocks"]:
        lines = [row[0] for row in connection.execute(job["sql"], parameters)]
        block = b"\r\n".join(lines) + b"\r\n" if lines else b""
        out.write(len(block).to_bytes(8, "big"))
        out.write(block)
        out.flush()
    connection.execute("COMMIT")
    connection.close()


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, EOFError):  # the download was abandoned: the panel closed a pipe
        sys.exit(0)
