"""README.md's configuration table and the environment variables the project reads agree.

Read means: in the service (payments_service/, settings.py and `make run`'s devstack/
included), gunicorn.conf.py, the container entrypoint (docker/entrypoint.sh), and the
${VARIABLES} the compose files take from the operator's shell. Left out, each for a reason:

- payments_service/sandbox/: the Razorpay emulator, a separate app that is never deployed;
  its SANDBOX_* variables are listed by `python -m payments_service.sandbox --help`.
- DEMO_* (payments_service/devstack/demo/): the demo storefronts are started only by
  `make run`, which hands them their site's secrets and URLs; nobody sets these by hand.
- bench/ and tests/: tools with their own settings (bench/run.py's docstring; README
  "Tests" for TEST_DATABASE_URL), not the service's configuration.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "payments_service"
NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
INTERNAL_PREFIXES = ("DEMO_",)


def test_every_environment_variable_read_anywhere_is_in_the_configuration_table() -> None:
    missing = variables_read() - configuration_table()
    assert sorted(missing) == [], "read, but not in README.md's configuration table"


def test_the_configuration_table_lists_only_variables_something_reads() -> None:
    unread = configuration_table() - variables_read()
    assert sorted(unread) == [], "in README.md's configuration table, but nothing reads them"


def test_the_scan_notices_every_way_a_variable_is_read(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "import os\n"
        'a = os.environ.get("ONE", "1")\n'
        'b = os.environ["TWO"]\n'
        'c = os.getenv("THREE")\n'
        'd = _flag(env, "FOUR")\n'
        'e = "FIVE" in os.environ\n'
        'os.environ["WRITTEN_NOT_READ"] = "x"\n'
        'f = {**os.environ, "PASSED_ON": "x"}\n'
    )
    assert python_reads(module) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}
    script = tmp_path / "entrypoint.sh"
    script.write_text('case "${1:-api}" in\n  *) echo "${SIX:-6}" "$SEVEN" ;;\nesac\n')
    assert shell_reads(script) == {"SIX", "SEVEN"}


def test_the_table_is_parsed_from_the_configuration_section() -> None:
    table = configuration_table()
    assert {"ADMIN_JWT_SECRET", "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET"} <= table
    assert "TEST_DATABASE_URL" not in table  # mentioned elsewhere in the README, not here


def variables_read() -> set[str]:
    """Every variable the service, gunicorn, the entrypoint and compose read."""
    modules = [ROOT / "gunicorn.conf.py"]
    modules += [p for p in PACKAGE.rglob("*.py") if "sandbox" not in p.relative_to(PACKAGE).parts]
    found = set().union(*(python_reads(path) for path in modules))
    found |= shell_reads(ROOT / "docker" / "entrypoint.sh")
    for compose_file in ROOT.glob("docker-compose*.yml"):
        found |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose_file.read_text()))
    return {name for name in found if not name.startswith(INTERNAL_PREFIXES)}


def python_reads(path: Path) -> set[str]:
    """Names read through os.environ, os.getenv, or a helper called as helper(env, "NAME")."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        for name in _names_read(node):
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                if NAME.match(name.value):
                    found.add(name.value)
    return found


def _names_read(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        return [node.slice] if _is_environment(node.value) else []
    if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
        return [node.left] if _is_environment(node.comparators[0]) else []
    if not isinstance(node, ast.Call) or not node.args:
        return []
    func, args = node.func, node.args
    if isinstance(func, ast.Attribute) and func.attr in ("get", "pop", "setdefault"):
        return [args[0]] if _is_environment(func.value) else []
    if _callee_name(func) == "getenv":
        return [args[0]]
    return [args[1]] if len(args) > 1 and _is_environment(args[0]) else []


def _is_environment(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in ("env", "environ")


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def shell_reads(path: Path) -> set[str]:
    """Upper-case $NAME and ${NAME...} expansions (positional ones like ${1:-api} aside)."""
    return set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", path.read_text()))


def configuration_table() -> set[str]:
    """The `NAMES` in the first column of the tables under README.md's "## Configuration"."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first_cell = line.split("|")[1]
            names.update(n for n in re.findall(r"`([^`]+)`", first_cell) if NAME.match(n))
    return names
