"""A throwaway PostgreSQL server for the test session (run as the ``postgres`` user when root,
since PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL server binaries not found: `make test` installs them")


class PostgresServer:
    """Socket-only server in a temporary directory (``parent``, e.g. a RAM-backed one): no
    port to race for, so each test worker can run its own."""

    def __init__(self, parent: str | None = None) -> None:
        self.bin = _pg_bin()
        self.dir = tempfile.mkdtemp(prefix="pgtest-", dir=parent)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> PostgresServer:
        data = os.path.join(self.dir, "data")
        self._run(f"{self.bin}/initdb", "-D", data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self._run(f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "server.log"),
                  "-w", "-t", "30", "-o",
                  f"-k {self.dir} -c listen_addresses= -c fsync=off -c synchronous_commit=off "
                  "-c full_page_writes=off -c max_connections=200", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}"

    def stop(self) -> None:
        try:
            self._run(f"{self.bin}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-m",
                      "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
