"""The house's one-way flow (STYLE.md): entrypoint → action → billing rules → models and
gateway, never back up. Read from the source's import statements, so a new arrow upward
fails here before anyone has to notice it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "admin_app"
ENTRYPOINTS = ("views", "public", "webhooks", "jobs", "cli", "auth")
LOWER_LAYERS = ("payments", "billing", "models", "documents", "reports")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The admin_app modules (and outside packages) a source file imports, resolved."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "admin_app" else None


def _sources(*layers: str) -> list[Path]:
    return sorted(p for layer in layers for p in
                  ([PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists()
                   else (PACKAGE / layer).rglob("*.py")))


@pytest.mark.parametrize("path", _sources(*LOWER_LAYERS), ids=lambda p: _module_name(p))
def test_lower_layers_import_nothing_above_them(path):
    upward = {module for module in _imports(path)
              if _layer(module) in ("actions", *ENTRYPOINTS)}
    assert not upward, f"{_module_name(path)} imports from above it: {sorted(upward)}"


@pytest.mark.parametrize("path", _sources("actions"), ids=lambda p: _module_name(p))
def test_actions_never_touch_the_request_or_an_entrypoint(path):
    imported = _imports(path)
    assert not {m for m in imported if _layer(m) in ENTRYPOINTS}
    assert not imported & {"flask.request", "flask.session", "flask.g", "flask.flash",
                           "flask_login.current_user"}


def test_only_the_stripe_gateway_imports_stripe():
    importers = {_module_name(p) for p in PACKAGE.rglob("*.py")
                 if any(m == "stripe" or m.startswith("stripe.") for m in _imports(p))}
    assert importers == {"admin_app.payments.stripe_gateway"}


def test_the_check_resolves_relative_imports():
    """The reader itself: a relative import two levels up resolves to the module it names."""
    fake = PACKAGE / "billing" / "settling.py"
    assert "admin_app.documents" in _imports(fake)
    assert _layer("admin_app.actions.runner") == "actions"
