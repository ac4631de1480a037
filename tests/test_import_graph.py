"""The sandbox is a separate app: no service module may import it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "payments_service"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                package = path.relative_to(PACKAGE.parent).parent.parts
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{module}" if module else base
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_service_module_imports_the_sandbox() -> None:
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if "sandbox" not in path.relative_to(PACKAGE).parts
        and any(name.startswith("payments_service.sandbox") for name in _imports(path))
    ]
    assert offenders == []


def test_the_check_would_notice_an_import() -> None:
    sample = PACKAGE / "checkout.py"
    assert "payments_service.payments.apply_payment" in _imports(sample)
