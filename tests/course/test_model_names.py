"""No model the installed SDK deprecates appears in the course: learners would copy it and see
the SDK's deprecation warning (or, after the end-of-life date, an error)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import yaml
from anthropic._data import DEPRECATED_MODELS  # the list the SDK warns from
from anthropic.types import ModelParam

from course.corrections import read_corrections
from tests.conftest import REPO

MODEL = re.compile(r"\bclaude-[a-z0-9]+(?:-[a-z0-9@.]+)*")
FOLDERS = ("content", "docs")
KNOWN_MODELS = {name for arg in typing.get_args(ModelParam) for name in typing.get_args(arg)}


def without_originals(path: Path) -> str:
    """The file as learners meet it: a correction's original (the course text it replaces,
    kept for instructors) blanked line for line, so line numbers still match the file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return read_corrections(text, str(path), 1, [])[0]
    lines = text.splitlines()
    pending = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == "original":
                    # a block scalar ends at column 0 of the line after it
                    end = value.end_mark.line - (value.end_mark.column == 0)
                    for index in range(value.start_mark.line, end + 1):
                        lines[index] = ""
                else:
                    pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return "\n".join(lines)


def model_names(root: Path) -> dict[str, list[str]]:
    """Every model id written in the course or its docs: id -> ["path:line", ...]."""
    found: dict[str, list[str]] = {}
    files = [root / "README.md"]
    for folder in FOLDERS:
        files += sorted(p for p in (root / folder).rglob("*") if p.suffix in {".md", ".yaml"})
    for path in files:
        for number, line in enumerate(without_originals(path).splitlines(), 1):
            for name in MODEL.findall(line):
                found.setdefault(name, []).append(f"{path.relative_to(root)}:{number}")
    return found


def test_no_model_named_in_the_course_is_deprecated_by_the_installed_sdk():
    names = model_names(REPO)
    assert names, "no model ids found: the pattern is broken"
    deprecated = {name: where for name, where in names.items() if name in DEPRECATED_MODELS}
    assert deprecated == {}


def test_every_model_named_in_the_lessons_is_one_the_sdk_knows():
    lessons = model_names(REPO)
    unknown = {
        name: where
        for name, where in lessons.items()
        if name not in KNOWN_MODELS and any(w.startswith("content/") for w in where)
    }
    assert unknown == {}


def test_a_deprecated_model_is_found_with_its_place(tmp_path):
    (tmp_path / "README.md").write_text("Default: `claude-sonnet-4-6`.\n", encoding="utf-8")
    lessons = tmp_path / "content" / "module" / "lessons"
    lessons.mkdir(parents=True)
    deprecated = next(iter(DEPRECATED_MODELS))
    (lessons / "01.md").write_text(
        f'x\n    model="{deprecated}",\n\n::: correction a note\nnew\n\n'
        f"~~~original\nmodel={deprecated}\n~~~\n:::\n",
        encoding="utf-8",
    )
    (tmp_path / "content" / "module" / "test.yaml").write_text(
        f"prompt:\n  text: Which model?\n  original: >-\n    Is {deprecated} current?\n"
        f"  note: >-\n    it named {deprecated}\n",
        encoding="utf-8",
    )
    (tmp_path / "docs").mkdir()

    names = model_names(tmp_path)

    assert names == {
        "claude-sonnet-4-6": ["README.md:1"],
        deprecated: ["content/module/lessons/01.md:2", "content/module/test.yaml:6"],
    }
    assert deprecated in DEPRECATED_MODELS
