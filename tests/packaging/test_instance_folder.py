"""The instance folder (SQLite database, offline gateway records, generated secret key) is
``ADMIN_APP_INSTANCE``, else ``instance/`` in the working directory: never next to the
package, which is site-packages once installed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from admin_app import create_app

PACKAGE = Path(__file__).resolve().parents[2] / "admin_app"
_SETTINGS = ("ADMIN_APP_INSTANCE", "SECRET_KEY", "DATABASE_URL", "OFFLINE_GATEWAY_URL",
             "PUBLIC_BASE_URL", "PORT", "FLASK_APP")


def _environment(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in _SETTINGS}, **extra}


def test_an_installed_package_keeps_its_files_in_the_working_directory(tmp_path):
    # The package copied away from the checkout, as pip installs it into site-packages.
    site, work = tmp_path / "site-packages", tmp_path / "work"
    shutil.copytree(PACKAGE, site / "admin_app",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    work.mkdir()
    environment = _environment(PYTHONPATH=str(site))
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "admin_app", "db",
                              "upgrade"], cwd=work, env=environment, capture_output=True,
                             text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    shown = subprocess.run(
        [sys.executable, "-c", "import admin_app as a; app = a.create_app(); "
         "print(a.__file__); print(app.instance_path); print(app.config['OFFLINE_GATEWAY_URL'])"],
        cwd=work, env=environment, capture_output=True, text=True, timeout=60, check=True)
    package_file, instance_path, gateway_url = shown.stdout.split()

    assert Path(package_file).parent == site / "admin_app"
    assert Path(instance_path) == work / "instance"
    assert gateway_url == f"sqlite:///{work / 'instance' / 'offline_gateway.sqlite3'}"
    assert (work / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(work / "instance" / "admin_app.sqlite3") as database:
        assert database.execute("SELECT version_num FROM alembic_version").fetchone()
    assert not (site / "instance").exists() and not (site / "admin_app" / "instance").exists()


def test_admin_app_instance_wins_and_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADMIN_APP_INSTANCE", "clinic-data")
    app = create_app()
    assert app.instance_path == str(tmp_path / "clinic-data")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == \
        f"sqlite:///{tmp_path / 'clinic-data' / 'admin_app.sqlite3'}"
    assert (tmp_path / "clinic-data" / "secret_key").read_text().strip() == \
        app.config["SECRET_KEY"] == create_app().config["SECRET_KEY"]


def test_nothing_is_written_when_nothing_is_kept_there(tmp_path, monkeypatch):
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    create_app({"SECRET_KEY": "set", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "OFFLINE_GATEWAY_URL": "sqlite://"})
    assert list(tmp_path.iterdir()) == []
