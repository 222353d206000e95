"""A worker dies mid-stream: the learner's message is kept and the other worker serves the retry."""

from __future__ import annotations

import asyncio

import pytest
from django.utils.html import escape

from labs.store import TURN_LEASE
from tests.e2e import course_facts as facts
from tests.scaled.conftest import served_simulator
from tests.scaled.learner import Chat, Turn, open_lab, sign_up
from tests.scaled.test_shared_stream import lab_path

pytestmark = pytest.mark.scaled

QUESTION = "What should my code do when a 529 overloaded error comes back mid-batch?"


async def retry_until_taken(learner, base_url: str, conversation: int) -> Turn:
    """Press "Try again" as a learner would, while the dead worker's lease runs out."""
    deadline = asyncio.get_running_loop().time() + TURN_LEASE.total_seconds() + 15
    async with Chat(learner, base_url, conversation) as chat:
        while True:
            await chat.retry()
            turn = await chat.turn(timeout=60)
            busy = any("still answering" in alert for alert in turn.alerts)
            if not busy or asyncio.get_running_loop().time() > deadline:
                return turn
            await asyncio.sleep(1)


async def test_the_other_worker_serves_the_retry_and_nothing_stored_is_lost(start_deployment):
    # Slow enough that the kill lands while the reply is still being written.
    with served_simulator(ttft=0.1, tokens_per_second=15) as served:
        doomed, survivor = start_deployment(served.url).workers
        learner = await sign_up(survivor.url, "crash-learner")
        conversation = await open_lab(learner, survivor.url, lab_path())
        opener = facts.lesson_lab(facts.first_lesson()).opener

        async with Chat(learner, survivor.url, conversation) as chat:
            await chat.send(opener)
            first = await chat.turn()
        assert first.final, "the first reply completes before the crash"

        async with Chat(learner, doomed.url, conversation) as chat:
            await chat.send(QUESTION)
            partial = await chat.turn(until_text=3)
            doomed.kill()

        page = (await learner.get(survivor.url, lab_path())).text
        assert escape(QUESTION) in page, "the learner's message survives the crash"
        assert escape(opener) in page

        retried = await retry_until_taken(learner, survivor.url, conversation)
        assert not retried.alerts, f"the retry was refused: {retried.alerts}"
        assert retried.final, "the surviving worker finishes the retried reply"

        page = (await learner.get(survivor.url, lab_path())).text
        learner_messages = page.count('class="chat-message chat-user')
        assert learner_messages == 2, "the retry answers the kept message, not a copy"
        assert escape(opener) in page
        assert first.streamed.split()[0] in page
        assert partial.reply_id != retried.reply_id
