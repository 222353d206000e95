"""One conversation open on both workers: one upstream stream, seen whole in both tabs."""

from __future__ import annotations

import asyncio

import pytest
from django.utils.html import escape

from tests.e2e import course_facts as facts
from tests.scaled.conftest import served_simulator
from tests.scaled.learner import Chat, open_lab, sign_up

pytestmark = pytest.mark.scaled


def lab_path() -> str:
    lab = facts.lesson_lab(facts.first_lesson())
    return f"/modules/{facts.module().slug}/labs/{lab.slug}/"


async def test_it_streams_one_reply_to_the_same_conversation_on_both_workers(start_deployment):
    with served_simulator(ttft=0.1, tokens_per_second=60) as served:
        one, two = start_deployment(served.url).workers
        learner = await sign_up(one.url, "shared-stream")
        conversation = await open_lab(learner, one.url, lab_path())
        opener = facts.lesson_lab(facts.first_lesson()).opener
        async with (
            Chat(learner, one.url, conversation) as tab_one,
            Chat(learner, two.url, conversation) as tab_two,
        ):
            await tab_one.send(opener)
            turn_one, turn_two = await asyncio.gather(tab_one.turn(), tab_two.turn())

        assert served.simulator.stats.attempts == 1, "two tabs must not cause two upstream calls"
        assert turn_one.accepted["turn"] == turn_two.accepted["turn"]
        assert turn_one.final and turn_two.final, "both tabs see the reply finish"
        streamed = turn_one.streamed
        assert len(turn_two.text_frames) >= 3, "the other worker's tab sees the reply grow"
        # Other tabs get coalesced text; the final frame (the rendered reply) completes it.
        assert streamed.startswith(turn_two.streamed)
        ending = " ".join(streamed.split()[-4:])
        assert escape(ending) in turn_two.final["content"], "the other tab ends on the whole reply"
        # Reloading on the other worker shows the stored conversation.
        page = (await learner.get(two.url, lab_path())).text
        assert escape(opener) in page
        assert streamed.split()[0] in page
