"""HTML for the chat, rendered from templates: one message, a notice, an alert.

The page and the websocket frames render messages with the same partials, so a reloaded page
looks exactly like the one that watched the reply stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string

from course.content import Lab, Module
from course.links import resolver_for
from labs import timeline
from labs.drills import DRILLS_BY_KEY, Drill
from labs.models import CoachTurn, Message
from labs.replies import render_reply, tidy_cut
from labs.timeline import Timeline
from resilient.events import DEGRADED_MESSAGES, Usage
from resilient.prices import DEFAULT_PRICES

TEMPLATE = "labs/lab.html"


@dataclass
class MessageView:
    id: int
    role: str
    status: str
    text: str
    html: str = ""
    author: str = ""
    turn: CoachTurn | None = None
    failure: str = ""
    can_retry: bool = False
    drill: Drill | None = None
    timeline: Timeline | None = None
    why_stopped: str = ""  # why the client stopped retrying, in words
    headroom: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # An offline turn bills nothing; what it would have cost at the model's prices, for show.
    simulated_cost: Decimal | None = None


INTERRUPTED = (
    "This reply was interrupted: the server writing it stopped before it finished. "
    "Your message is kept; try again."
)


def failure_text(turn: CoachTurn | None) -> str:
    if turn is None or turn.outcome == CoachTurn.Outcome.RUNNING:
        return INTERRUPTED
    if turn.outcome == CoachTurn.Outcome.CANCELLED:
        return "This reply was cancelled when the page was closed."
    if isinstance(turn.trace, dict) and turn.trace.get("message"):
        return str(turn.trace["message"])
    return DEGRADED_MESSAGES.get(
        turn.degraded_kind, "The coach could not answer. Your message is kept; try again."
    )


def message_view(
    message: Message,
    module: Module,
    lab: Lab,
    turn: CoachTurn | None = None,
    *,
    learner: str = "You",
) -> MessageView:
    """`learner` names the learner's own messages: "You" for them, their name for an instructor."""
    view = MessageView(
        id=message.pk,
        role=message.role,
        status=message.status,
        text=message.text,
        author=learner if message.role == Message.Role.USER else lab.coach.name,
        turn=turn,
        drill=DRILLS_BY_KEY.get(turn.drill) if turn and turn.drill else None,
    )
    if turn is not None and turn.trace:
        view.timeline = timeline.build(
            turn.trace, outcome=turn.outcome, ttft_ms=turn.ttft_ms, latency_ms=turn.latency_ms
        )
        view.why_stopped = timeline.STOPPED.get(str(turn.trace.get("stopped", "")), "")
        view.headroom = timeline.headroom_lines(turn.trace.get("headroom"))
    if (
        message.role == Message.Role.ASSISTANT
        and message.text
        and message.status
        in (
            Message.Status.COMPLETE,
            Message.Status.TRUNCATED,
            Message.Status.STOPPED,
        )
    ):
        text = message.text
        if message.status == Message.Status.TRUNCATED:
            text = tidy_cut(text)
        view.html = render_reply(text, resolver_for(module), cache_key=f"coach:{module.slug}")
    if message.status == Message.Status.FAILED:
        view.failure = failure_text(turn)
    if turn is not None and turn.backend == CoachTurn.Backend.OFFLINE:
        view.simulated_cost = simulated_cost(turn)
    return view


def simulated_cost(turn: CoachTurn) -> Decimal:
    """What an offline turn's tokens would cost at its model's prices (nothing is billed)."""
    usage = Usage(
        turn.input_tokens, turn.output_tokens, turn.cache_write_tokens, turn.cache_read_tokens
    )
    return Decimal(str(round(DEFAULT_PRICES.cost(turn.model, usage), 6)))


def interrupted_view(message: Message, module: Module, lab: Lab) -> MessageView:
    """A reply still marked streaming whose turn nobody runs (its worker died): failed."""
    view = message_view(message, module, lab)
    view.status = Message.Status.FAILED
    view.failure = INTERRUPTED
    return view


def render_message(view: MessageView, *, read_only: bool = False) -> str:
    return render_to_string(f"{TEMPLATE}#message", {"m": view, "read_only": read_only})


def render_notice(text: str) -> str:
    return render_to_string(f"{TEMPLATE}#notice", {"text": text})


def render_alert(text: str) -> str:
    return render_to_string(f"{TEMPLATE}#alert", {"text": text})
