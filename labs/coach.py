"""What the coach is told: the cached system prefix and the conversation as API messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course.content import Lab, Lesson


def system_prefix(lab: Lab, lesson: Lesson | None) -> str:
    """Persona, lab brief and the lesson text: identical every turn, so it is cached."""
    parts = [
        lab.coach.persona.strip(),
        f"Lab: {lab.title}. The learner's mission: {lab.mission}",
        f"You opened the conversation with: {lab.greeting}",
    ]
    if lesson is not None:
        parts.append(
            f"Ground your answers in this lesson, Lesson {lesson.number}: {lesson.title}.\n\n"
            f"<lesson>\n{lesson.body.strip()}\n</lesson>"
        )
    return "\n\n".join(parts)


def api_messages(history: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Alternating user/assistant messages starting with the user, as the API requires.

    A learner message whose reply failed is followed by another learner message; the two are
    joined so that nothing the learner wrote is lost from the coach's view.
    """
    messages: list[dict[str, Any]] = []
    for role, text in history:
        if not text.strip() or (not messages and role != "user"):
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": role, "content": text})
    return messages
