"""What the conversation so far tells the offline coach: the turns, what it already said.

The offline coach is stateless (a simulator responder sees one request), so everything it
remembers is read back from the request's messages: the learner's earlier turns (for
follow-ups), the sentences and code it already sent (so it does not repeat them unless asked),
the coaching questions it already asked, and the lesson sections it cited last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

_LINK = re.compile(r"\]\((lesson:[^)\s]+)\)")
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Text with markdown quote marks and runs of whitespace folded, for "did I say this"."""
    text = re.sub(r"(?m)^\s*>\s?", "", text)
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass(frozen=True)
class Memory:
    learner: tuple[str, ...]  # the learner's turns, the current one last
    replies: tuple[str, ...] = field(default=())  # the coach's earlier replies, in order

    @classmethod
    def from_messages(cls, messages: Sequence[dict[str, str]]) -> Memory:
        learner = tuple(m["content"] for m in messages if m["role"] == "user")
        replies = tuple(m["content"] for m in messages if m["role"] == "assistant")
        return cls(learner or ("",), replies)

    @property
    def current(self) -> str:
        return self.learner[-1]

    @property
    def previous(self) -> str | None:
        return self.learner[-2] if len(self.learner) > 1 else None

    @cached_property
    def _said(self) -> str:
        return "\n".join(squash(reply) for reply in self.replies)

    def said(self, text: str) -> bool:
        """Whether an earlier reply already carried `text` (a sentence, a code block)."""
        folded = squash(text)
        return bool(folded) and folded in self._said

    def cited_last(self) -> list[str]:
        """The lesson links (`lesson:slug#anchor`) of the last reply, in order."""
        return _LINK.findall(self.replies[-1]) if self.replies else []

    def asked(self, question: str) -> bool:
        return self.said(question)
