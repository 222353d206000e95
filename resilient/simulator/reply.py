"""One admitted reply: its word pieces, where a fault cuts it, and its Message JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resilient.simulator import wire
from resilient.simulator.cache import CacheUsage
from resilient.simulator.plan import Outcome
from resilient.simulator.request import MessagesRequest
from resilient.simulator.tokens import split_stream_tokens


@dataclass(frozen=True)
class Reply:
    """Everything needed to render one admitted message."""

    message_id: str
    request: MessagesRequest
    pieces: list[str]
    stop_reason: str
    outcome: Outcome
    usage: CacheUsage

    @property
    def cut(self) -> int:
        """Content tokens sent before the outcome strikes (all of them when it doesn't)."""
        if self.outcome.kind in ("drop", "error", "eof", "stall"):
            return min(self.outcome.after, len(self.pieces))
        return len(self.pieces)

    def usage_dict(self, output_tokens: int) -> dict[str, int]:
        return wire.usage(
            self.usage.input_tokens,
            output_tokens,
            self.usage.cache_creation_input_tokens,
            self.usage.cache_read_input_tokens,
        )

    def start_message(self) -> dict[str, Any]:
        # The API reports a token or so of output already in message_start.
        return wire.message(self.message_id, self.request.model, None, None, self.usage_dict(1))

    def message(self) -> dict[str, Any]:
        text = "".join(self.pieces)
        usage = self.usage_dict(len(self.pieces))
        return wire.message(self.message_id, self.request.model, text, self.stop_reason, usage)


def reply_pieces(text: str, max_tokens: int, outcome: Outcome) -> tuple[list[str], str]:
    pieces = split_stream_tokens(text)
    if len(pieces) > max_tokens:
        return pieces[:max_tokens], "max_tokens"
    if outcome.kind == "max_tokens":
        # The reply fits, so cut it half way to show a truncation the reader will notice.
        return pieces[: max(1, len(pieces) // 2)], "max_tokens"
    return pieces, "end_turn"


def stream_error_message(error_type: str) -> str:
    return "Overloaded" if error_type == "overloaded_error" else f"Simulated {error_type}"
