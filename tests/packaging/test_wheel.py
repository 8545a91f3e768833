"""The built wheel carries what an installed panel needs besides code: the Alembic migrations
(``flask --app admin_app db upgrade``), the templates and the static files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT / "admin_app"


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = tmp_path_factory.mktemp("source")
    shutil.copy(PROJECT / "pyproject.toml", source)
    for package in ("admin_app", "seeds"):
        shutil.copytree(PROJECT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--wheel-dir", str(dist),
                    str(source)], check=True, timeout=300)
    (wheel,) = dist.glob("admin_app-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _shipped(folder: str) -> set[str]:
    return {path.relative_to(PROJECT).as_posix() for path in (PACKAGE / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_wheel_carries_the_migrations(wheel_files):
    migrations = _shipped("migrations")
    assert {"admin_app/migrations/alembic.ini", "admin_app/migrations/env.py",
            "admin_app/migrations/script.py.mako"} <= migrations
    assert any(name.startswith("admin_app/migrations/versions/0001_") for name in migrations)
    assert migrations <= wheel_files
    assert not [name for name in wheel_files if "__pycache__" in name or name.endswith(".pyc")]


def test_the_wheel_carries_the_templates_and_static_files(wheel_files):
    templates, static = _shipped("templates"), _shipped("static")
    assert {"admin_app/templates/auth/login.html",
            "admin_app/templates/public/join.html"} <= templates <= wheel_files
    assert static and static <= wheel_files


def test_flask_migrate_looks_inside_the_package():
    from admin_app import create_app
    from admin_app.config import MIGRATIONS_DIR

    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "OFFLINE_GATEWAY_URL": "sqlite://"})
    assert app.extensions["migrate"].directory == str(MIGRATIONS_DIR)
    assert MIGRATIONS_DIR.parent == PACKAGE and (MIGRATIONS_DIR / "env.py").is_file()
