"""Benchmark the scale seeder: time and memory to insert N contacts and their history.

    python benchmarks/seed_scale.py                       # 100,000 contacts, fresh SQLite
    python benchmarks/seed_scale.py --contacts 1000000 --no-progress
    python benchmarks/seed_scale.py --database-url postgresql+psycopg://u@host/db --reset-database

Always measures a fresh temporary SQLite database; with ``--database-url`` it also measures
that database (schema created with ``db.create_all()``; ``--reset-database`` drops every table
of the app first). Each database runs in its own child process so peak RSS is per database.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_app(url: str):
    """The real app when ``create_app`` is importable and works, else a bare Flask app with
    the same extension and models (enough for seeding)."""
    os.environ.setdefault("SECRET_KEY", "seed-benchmark")  # no key file in instance/
    config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEFAULT_CURRENCY": "USD"}
    try:
        from admin_app import create_app

        return create_app(config)
    except Exception as exc:  # noqa: BLE001 - create_app is optional for this benchmark
        print(f"note: create_app unavailable ({type(exc).__name__}: {exc}); using a bare app",
              file=sys.stderr)
    from flask import Flask

    import admin_app.models  # noqa: F401 - registers the tables
    from admin_app.extensions import db

    app = Flask("seed_benchmark")
    app.config.update(config)
    db.init_app(app)  # (admin_app.extensions turns SQLite foreign keys on)
    return app


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_one(url: str, args: argparse.Namespace) -> None:
    from admin_app.extensions import db
    from seeds import load_demo, load_scale

    app = make_app(url)
    with app.app_context():
        engine = db.engine
        label = f"{engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})"
        if args.reset_database:
            db.drop_all()
        db.create_all()
        if args.demo:
            started = time.perf_counter()
            loaded = load_demo()
            print(f"[{label}] demo loaded={loaded} in {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        counts = load_scale(args.contacts, batch_size=args.batch_size,
                            progress=not args.no_progress, documents=args.documents)
        elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(f"[{label}] {args.contacts:,} contacts, batch size {args.batch_size:,}")
    for table, count in counts.items():
        print(f"    {table:<16}{count:>12,}")
    print(f"    {'total rows':<16}{total:>12,}")
    print(f"  elapsed   {elapsed:10.2f} s")
    print(f"  rows/s    {total / elapsed if elapsed else 0:12,.0f}")
    print(f"  contacts/s{args.contacts / elapsed if elapsed else 0:12,.0f}")
    print(f"  peak RSS  {peak_rss_mb():10.1f} MB")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--database-url", help="also benchmark this database (e.g. PostgreSQL)")
    parser.add_argument("--reset-database", action="store_true",
                        help="drop the app's tables in --database-url before seeding")
    parser.add_argument("--demo", action="store_true", help="load the demo clinic first")
    parser.add_argument("--documents", action="store_true",
                        help="also issue receipts and credit notes (load_scale(documents=True))")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument("--single-url", help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args(argv)

    if args.single_url:
        run_one(args.single_url, args)
        return 0

    passthrough = [f"--contacts={args.contacts}", f"--batch-size={args.batch_size}"]
    flags = {"--demo": args.demo, "--documents": args.documents,
             "--no-progress": args.no_progress, "--reset-database": args.reset_database}
    passthrough += [flag for flag, on in flags.items() if on]
    status = 0
    tmp = tempfile.mkdtemp(prefix="seed-bench-")
    # --demo registers its cards and charges with the offline gateway: keep that out of instance/
    os.environ.setdefault("OFFLINE_GATEWAY_URL", f"sqlite:///{tmp}/offline_gateway.sqlite3")
    sqlite_file = Path(tmp) / "bench.sqlite3"
    targets = [f"sqlite:///{sqlite_file}"] + ([args.database_url] if args.database_url else [])
    try:
        for url in targets:
            result = subprocess.run([sys.executable, __file__, *passthrough, "--single-url", url],
                                    cwd=ROOT, check=False)
            status = status or result.returncode
    finally:
        if args.keep:
            print(f"SQLite database kept at {sqlite_file}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
