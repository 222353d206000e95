"""Config fixtures: the lab fixtures, for pages that need a conversation."""

from __future__ import annotations

from tests.labs.conftest import fast_coach, lab_content  # noqa: F401  (fixtures reused here)
