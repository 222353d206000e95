"""Every `anthropic X.Y` the course or its docs name is the SDK version installed from the lock."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from tests.conftest import REPO

# "anthropic 2.17", "anthropic==2.17.0", "anthropic[aiohttp] 2.17", also across a YAML line break.
CLAIM = re.compile(r"\banthropic(?:\[[\w,]+\])?\s*(?:==|v)?\s*(\d+\.\d+(?:\.\d+)?)\b", re.I)
TEXT_SUFFIXES = {".md", ".yaml", ".yml", ".txt", ".rst"}
SKIPPED = {"content", "docs", "node_modules", "artifacts", "staticfiles"}


def scanned_files(root: Path) -> list[Path]:
    """README.md, content/, docs/, and every package's README (the simulator's, for one)."""
    files = [root / "README.md"]
    for folder in ("content", "docs"):
        files += sorted(p for p in (root / folder).rglob("*") if p.suffix in TEXT_SUFFIXES)
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name not in SKIPPED:
            files += sorted(folder.rglob("README.md"))
    return sorted({f for f in files if f.is_file()}, key=lambda f: f.relative_to(root).parts)


def wrong_claims(files: list[Path], installed: str, root: Path) -> list[str]:
    """`path:line: named X, installed Y` for each version named that the installed one is not.

    A claim is compared at its own precision: "2.17" matches 2.17.x, "2.17.0" only 2.17.0.
    """
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in CLAIM.finditer(text):
            named = match.group(1)
            parts = len(named.split("."))
            if installed.split(".")[:parts] != named.split("."):
                line = text.count("\n", 0, match.start()) + 1
                where = path.relative_to(root)
                found.append(f"{where}:{line}: names anthropic {named}, installed is {installed}")
    return found


def test_every_sdk_version_named_in_content_docs_and_readme_is_the_installed_one():
    files = scanned_files(REPO)
    assert {"docs/resilient-client.md", "resilient/simulator/README.md"} <= {
        str(f.relative_to(REPO)) for f in files
    }
    assert wrong_claims(files, version("anthropic"), REPO) == []


def test_a_stale_version_is_reported_with_its_path_and_line(tmp_path):
    (tmp_path / "README.md").write_text("Built on anthropic 2.17.\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text(
        "Facts from anthropic 2.17.0.\n\nThe pinned anthropic 2.12 retries twice.\n",
        encoding="utf-8",
    )
    (tmp_path / "resilient" / "simulator").mkdir(parents=True)
    (tmp_path / "resilient" / "simulator" / "README.md").write_text(
        "### What the SDK (anthropic 2.12) raises\n", encoding="utf-8"
    )
    labs = tmp_path / "content" / "module" / "labs"
    labs.mkdir(parents=True)
    (labs / "coach.yaml").write_text(
        "persona: >\n  Use Python for anthropic\n    2.9 only when it helps.\n", encoding="utf-8"
    )

    found = wrong_claims(scanned_files(tmp_path), "2.17.1", tmp_path)

    assert found == [
        "content/module/labs/coach.yaml:2: names anthropic 2.9, installed is 2.17.1",
        "docs/notes.md:1: names anthropic 2.17.0, installed is 2.17.1",
        "docs/notes.md:3: names anthropic 2.12, installed is 2.17.1",
        "resilient/simulator/README.md:1: names anthropic 2.12, installed is 2.17.1",
    ]
