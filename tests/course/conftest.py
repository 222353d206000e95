from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "module-01-sample"


@pytest.fixture
def sample_content(tmp_path, settings) -> Path:
    """A writable copy of the sample module, served by the site for this test."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root / FIXTURE.name)
    settings.CONTENT_DIR = root
    return root / FIXTURE.name
