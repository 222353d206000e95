"""Dependencies run one way: config → ops → labs, quizzes → course; labs → resilient; resilient
imports no Django. A module importing against the arrow fails here, naming the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

FORBIDDEN = {
    "course": ("config", "ops", "labs", "quizzes"),
    "quizzes": ("config", "ops", "labs"),
    "labs": ("config", "ops", "quizzes"),
    "ops": ("config",),
    "resilient": ("django", "channels", "config", "ops", "labs", "quizzes", "course"),
}


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_against_the_arrow(package):
    wrong = [
        f"{path.relative_to(REPO)}:{line}: imports {name}"
        for path in sorted((REPO / package).rglob("*.py"))
        for line, name in imports(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert wrong == []
