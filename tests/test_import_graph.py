"""The sandbox is a separate app: no service module imports it, and it loads none of them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
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


def test_the_sandbox_process_loads_no_service_module() -> None:
    # A fresh interpreter, as `python -m payments_service.sandbox` starts: import the sandbox
    # and build its app, then list what got loaded.
    script = (
        "import json, sys\n"
        "import payments_service.sandbox as sandbox\n"
        "sandbox.create_app()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(ran.stdout.splitlines()[-1])
    service = [
        name
        for name in loaded
        if name.startswith("payments_service")
        and name != "payments_service"
        and not name.startswith("payments_service.sandbox")
    ]
    assert service == []
    assert "payments_service.sandbox.app" in loaded  # the check saw the sandbox itself
    assert [name for name in loaded if name.split(".")[0] in ("razorpay", "psycopg2")] == []
