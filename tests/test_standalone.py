"""The repository stands alone: nothing in it needs files from outside the clone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Written so that this file does not match itself.
OUTSIDE_FOLDER = re.compile(r"(?:\.\./|/work/)shared\b")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
    )
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


def test_no_tracked_file_refers_to_a_folder_outside_the_repository() -> None:
    files = tracked_files()
    assert ROOT / "README.md" in files

    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        if path.is_file()
        for number, line in enumerate(path.read_bytes().decode(errors="replace").splitlines(), 1)
        if OUTSIDE_FOLDER.search(line)
    ]

    assert offenders == []


def test_every_relative_link_in_the_readme_and_docs_leads_to_a_file_in_the_repository() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    documents += sorted((ROOT / "tests" / "fixtures").rglob("*.md"))
    assert ROOT / "docs" / "design.md" in documents
    assert ROOT / "docs" / "razorpay.md" in documents

    broken = []
    for document in documents:
        for target in MARKDOWN_LINK.findall(document.read_text()):
            if re.match(r"[a-z]+:|#", target):
                continue
            path = (document.parent / target.split("#", 1)[0]).resolve()
            if not path.exists() or ROOT not in path.parents:
                broken.append(f"{document.relative_to(ROOT)}: {target}")

    assert broken == []


def test_the_readme_points_to_the_design_and_the_razorpay_notes() -> None:
    readme = (ROOT / "README.md").read_text()

    assert "](docs/design.md)" in readme
    assert "](docs/razorpay.md)" in readme
