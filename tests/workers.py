"""Fixtures for the job engine (a pytest plugin every test folder can use): real workers
(``flask worker`` in a process of its own, as in production) on the embedded SQLite queue or on
a real Redis server started for the session."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from admin_app.extensions import db
from admin_app.models import BulkJob

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway Redis server on a free loopback port, no persistence, stopped at the end."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    folder, port = tempfile.mkdtemp(prefix="redis-"), _free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", folder],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


def worker_environment(app) -> dict[str, str]:
    """The environment a worker process gets to serve the same app as the test."""
    config = app.config
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": config["SECRET_KEY"], "JOBS_URL": config["JOBS_URL"],
           "OFFLINE_GATEWAY_URL": config["OFFLINE_GATEWAY_URL"],
           "PAYMENT_GATEWAY": config.get("PAYMENT_GATEWAY", "offline")}
    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "SMTP_URL", "MAIL_FROM",
                 "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_API_BASE"):
        if config.get(name):
            env[name] = config[name]
    return env


@pytest.fixture
def start_worker(app):
    """``start_worker(threads=2)`` runs ``flask worker`` for the test's app; all are stopped
    (killed) at the end."""
    started: list[subprocess.Popen] = []

    def start(threads: int = 2) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "admin_app", "worker", "--workers",
             str(threads), "--no-periodic"], cwd=ROOT, env=worker_environment(app),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def wait_for(condition, *, timeout: float = 90, what: str = "the job"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = condition()
        db.session.rollback()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def job(job_id: int) -> BulkJob:
    db.session.expire_all()
    return db.session.get(BulkJob, job_id)
