"""A worker dies mid-stream: the learner's message is kept and the other worker serves the retry."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from labs.store import TURN_LEASE
from tests.e2e import course_facts as facts
from tests.scaled.conftest import served_simulator
from tests.scaled.learner import Chat, open_lab, sign_up
from tests.scaled.test_shared_stream import lab_path

pytestmark = pytest.mark.scaled

QUESTION = "What should my code do when a 529 overloaded error comes back mid-batch?"


async def test_a_killed_worker_ends_in_interrupted_try_again_and_the_retry_is_taken(
    start_deployment,
):
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

        # A second tab, on the surviving worker, watches the reply the doomed worker streams.
        async with (
            Chat(learner, survivor.url, conversation) as watching,
            Chat(learner, doomed.url, conversation) as sending,
        ):
            await sending.send(QUESTION)
            partial = await sending.turn(until_text=3)
            doomed.kill()
            # Nobody renews the dead worker's lease: once it lapses, the watching tab is told
            # the reply was interrupted, with Try again.
            seen = await watching.turn(timeout=TURN_LEASE.total_seconds() + 15)
            interrupted = seen.final
            assert interrupted is not None, f"no end for the watching tab: {seen.frames}"
            assert "interrupted" in interrupted["content"]
            assert "Try again" in interrupted["content"]

            page = (await learner.get(survivor.url, lab_path())).text
            assert escape(QUESTION) in page, "the learner's message survives the crash"
            assert "This reply was interrupted" in page and "Try again" in page
            assert 'aria-busy="false"' in page

            # Nobody runs that turn any more: the retry is taken at once, never refused.
            await watching.retry()
            retried = await watching.turn(timeout=60)
        assert not retried.alerts, f"the retry was refused: {retried.alerts}"
        assert retried.final and retried.succeeded, "the surviving worker finishes the reply"

        page = (await learner.get(survivor.url, lab_path())).text
        learner_messages = page.count('class="chat-message chat-user')
        assert learner_messages == 2, "the retry answers the kept message, not a copy"
        assert escape(opener) in page
        assert first.streamed.split()[0] in page
        assert partial.reply_id != retried.reply_id
