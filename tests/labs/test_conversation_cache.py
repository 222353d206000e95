"""The conversation is cached too: the share of input not read from the cache stays small.

Six turns of a real lab against the simulator (offline coach), once as the coach sends them
(system prefix and the recent turns marked) and once with only the system prefix marked, as
before. The per-turn table is printed; by turn 5 at most 15 % of the input may be paid at more
than the cache-read price.
"""

from __future__ import annotations

import pytest

from labs import turns
from labs.models import CoachTurn, Conversation
from tests.conftest import REPO
from tests.labs.conftest import connected, receive, send, until_idle

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = [
    "I'm processing 500 PDFs. How should I structure my retry logic?",
    "How long should I wait after a 429?",
    "Why do I need jitter?",
    "Which headers tell me how many requests I have left?",
    "Is the SDK's max_retries enough for a batch?",
    "What happens to a document that keeps failing?",
]
TARGET_TURN = 5
TARGET_SHARE = 0.15


async def conversation_turns(learner) -> list[CoachTurn]:
    conversation = await Conversation.objects.acreate(
        user=learner, module="production-patterns", lab="retry-strategies"
    )
    async with connected(learner, conversation.pk) as comm:
        for question in QUESTIONS:
            await send(comm, message=question)
            await receive(comm)
            assert "Reply complete" in (await until_idle(comm))[-1]["content"]
    return [t async for t in CoachTurn.objects.filter(conversation=conversation).order_by("id")]


def not_read(turn: CoachTurn) -> float:
    """Share of the turn's input billed above the cache-read price (uncached or written)."""
    total = turn.input_tokens + turn.cache_write_tokens + turn.cache_read_tokens
    return (turn.input_tokens + turn.cache_write_tokens) / total


async def test_recent_turns_are_cached_so_the_uncached_share_stays_small(
    learner, fast_coach, settings, monkeypatch
):
    settings.CONTENT_DIR = REPO / "content"
    settings.CHAT_MESSAGES_PER_MINUTE = 2 * len(QUESTIONS)
    cached = await conversation_turns(learner)
    monkeypatch.setattr(turns, "cached_conversation", lambda messages: messages)
    system_only = await conversation_turns(learner)

    print("\nturn  input  written   read  not read from cache  (system prefix only)")
    for number, (turn, before) in enumerate(zip(cached, system_only, strict=True), start=1):
        print(
            f"{number:>4} {turn.input_tokens:>6} {turn.cache_write_tokens:>8} "
            f"{turn.cache_read_tokens:>6} {not_read(turn):>20.0%}  ({not_read(before):.0%})"
        )
    assert not_read(cached[TARGET_TURN - 1]) <= TARGET_SHARE
    # Every later turn too, and each reads the whole of the previous request's prompt.
    assert all(not_read(turn) <= TARGET_SHARE for turn in cached[1:])
    for earlier, later in zip(cached, cached[1:], strict=False):
        prompt = earlier.input_tokens + earlier.cache_write_tokens + earlier.cache_read_tokens
        assert later.cache_read_tokens == prompt
    # What the conversation breakpoint buys: without it the share grows turn by turn.
    assert not_read(system_only[TARGET_TURN - 1]) > 2 * not_read(cached[TARGET_TURN - 1])
