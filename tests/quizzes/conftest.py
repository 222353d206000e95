from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from course.registry import get_module

FIXTURE = Path(__file__).parent / "fixtures" / "module-05-quizfix"


@pytest.fixture
def quiz_content(tmp_path, settings) -> Path:
    """A writable copy of the quiz fixture module (slug `quizfix`), served for this test."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root / FIXTURE.name)
    settings.CONTENT_DIR = root
    return root / FIXTURE.name


@pytest.fixture
def module(quiz_content):
    return get_module("quizfix")
