"""Every Python block in the lessons runs against the pinned SDK (definitions, no network)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from django.conf import settings

from course.registry import load_module, module_folders


def python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for folder in module_folders(Path(settings.CONTENT_DIR)):
        for lesson in load_module(folder).lessons:
            for index, code in enumerate(re.findall(r"```python\n(.*?)```", lesson.body, re.S)):
                blocks.append((f"{lesson.slug}#{index + 1}", code))
    return blocks


@pytest.mark.parametrize(("where", "code"), python_blocks(), ids=[b[0] for b in python_blocks()])
def test_the_block_runs_against_the_installed_sdk(where, code, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-no-network")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing may be called
    # A real module, as `python file.py` would give: dataclasses look their module up.
    module = types.ModuleType("lesson_block")
    monkeypatch.setitem(sys.modules, "lesson_block", module)
    exec(compile(code, where, "exec"), module.__dict__)


def test_blocks_use_the_sdk_as_it_is_today():
    code = "\n".join(block for _, block in python_blocks())
    assert "text_stream()" not in code  # a property, not a method
    assert "x-ratelimit-" not in code  # the real headers are anthropic-ratelimit-*
    assert not re.search(r"(?<!with)_raw_response", code)  # headers: with_raw_response
    assert "betas=" not in code  # prompt caching is generally available
