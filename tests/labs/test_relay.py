"""Streamed text reaches this tab often and the other tabs coarsely, and none is lost."""

from __future__ import annotations

import json

import pytest

from labs import frames
from labs.relay import TextRelay
from labs.store import TurnBudgetStore
from resilient import Budget, BudgetKeys, BudgetLimits, Cap, ScopeSpend, Spend, Usage
from tests.reply_frames import shown


class Tabs:
    """An outlet that keeps what each side was sent."""

    def __init__(self) -> None:
        self.mine: list[str] = []
        self.theirs: list[str] = []

    async def to_self(self, frame: str) -> None:
        self.mine.append(frame)

    async def to_others(self, frame: str) -> None:
        self.theirs.append(frame)


def text_of(sent: list[str]) -> str:
    """The reply's visible text after these frames, as a page shows it."""
    return shown([json.loads(frame) for frame in sent], 7).text.strip()


@pytest.fixture
def intervals(monkeypatch) -> None:
    monkeypatch.setattr(frames, "FRAME_INTERVAL", 0.04)
    monkeypatch.setattr(frames, "GROUP_FRAME_INTERVAL", 0.15)


async def test_other_tabs_get_fewer_frames_of_the_same_text(intervals):
    tabs = Tabs()
    relay = TextRelay(tabs, 7, watched=True)
    pieces = [f"w{i} <" for i in range(100)]  # one piece every 10 ms for one second
    for i, piece in enumerate(pieces):
        await relay.add(piece, i * 0.01)
    await relay.flush(1.0)
    assert text_of(tabs.mine) == text_of(tabs.theirs) == "".join(pieces).strip()
    assert 20 <= len(tabs.mine) <= 27  # about one frame per 40 ms
    assert 6 <= len(tabs.theirs) <= 10  # about one frame per 150 ms (a fifth early at most)
    assert all(json.loads(f)["target"] == "#msg-7-tail" for f in tabs.mine + tabs.theirs)


async def test_the_first_text_reaches_every_tab_at_once(intervals):
    tabs = Tabs()
    relay = TextRelay(tabs, 7, watched=True)
    await relay.add("Hello", 0.0)
    assert text_of(tabs.mine) == text_of(tabs.theirs) == "Hello"


@pytest.mark.parametrize("flushed_at", [0.05, 0.2])  # before / after the coarse interval
async def test_flush_sends_everything_pending_to_every_tab(intervals, flushed_at):
    tabs = Tabs()
    relay = TextRelay(tabs, 7, watched=True)
    await relay.add("a", 0.0)
    await relay.add("b", 0.041)
    await relay.add("c", 0.042)
    await relay.flush(flushed_at)
    assert text_of(tabs.mine) == text_of(tabs.theirs) == "abc"


async def test_reset_drops_pending_text_for_every_tab(intervals):
    tabs = Tabs()
    relay = TextRelay(tabs, 7, watched=True)
    await relay.add("a", 0.0)
    await relay.add("b", 0.041)  # sent to this tab, still pending for the others
    await relay.add("c", 0.05)
    relay.reset()
    await relay.flush(0.3)
    assert text_of(tabs.mine) == "ab" and text_of(tabs.theirs) == "a"


KNOWN = ScopeSpend(Spend(100, 0.5), Spend(200, 1.0), Spend(300, 2.0))
KEYS = BudgetKeys(conversation="12", learner="3")


async def test_a_turns_budget_is_what_admission_summed_plus_its_own_bill():
    budget = Budget(BudgetLimits(conversation=Cap(cost_usd=0.51)), store=TurnBudgetStore(KNOWN))
    assert await budget.spent(KEYS) == KNOWN
    assert (
        await budget.check(KEYS, model="claude-haiku-4-5", input_tokens=10, max_tokens=10) is None
    )
    cost = await budget.record(KEYS, model="claude-haiku-4-5", usage=Usage(10_000, 2_000))
    # Recorded once, counted once in every scope.
    assert await budget.spent(KEYS) == KNOWN + Spend(12_000, cost)
    # Another attempt's worst case now breaks the conversation's cap: refused before sending.
    refusal = await budget.check(KEYS, model="claude-haiku-4-5", input_tokens=10, max_tokens=10)
    assert refusal is not None and refusal.scope == "conversation"


async def test_no_other_tab_watching_no_text_for_them_until_one_starts(intervals):
    tabs = Tabs()
    relay = TextRelay(tabs, 7)
    for i, piece in enumerate(["Back ", "<off> ", "with ", "jitter "]):
        await relay.add(piece, i * 0.1)
    assert text_of(tabs.mine) == "Back <off> with jitter" and tabs.theirs == []
    # A tab starts watching: it is sent the text so far in one frame replacing its own ...
    frame = json.loads(relay.watched_by_another() or "")
    assert frame["target"] == "#msg-7-text" and frame["swap"].startswith("innerHTML")
    assert shown([frame], 7).text.startswith("Back <off>")
    # ... and the rest (what was still pending for other tabs included) as it streams.
    await relay.add("and a cap.", 0.5)
    await relay.flush(0.6)
    theirs = [frame, *(json.loads(f) for f in tabs.theirs)]
    assert shown(theirs, 7).text.strip() == "Back <off> with jitter and a cap."


async def test_a_tab_catching_up_gets_what_the_other_tabs_were_sent_not_what_is_pending(
    intervals,
):
    tabs = Tabs()
    relay = TextRelay(tabs, 7, watched=True)
    assert relay.catch_up_frame() is None  # nothing streamed yet: nothing to send
    await relay.add("Back <off> ", 0.0)  # the first text goes to every tab at once
    await relay.add("with ", 0.05)  # this tab only; pending for the others
    frame = json.loads(relay.catch_up_frame() or "")
    assert frame["target"] == "#msg-7-text" and frame["swap"].startswith("innerHTML")
    assert "Back &lt;off&gt;" in frame["content"] and "with" not in frame["content"]
    await relay.add("jitter.", 0.2)  # the others' interval has passed
    caught_up = shown([json.loads(relay.catch_up_frame() or "")], 7)
    assert caught_up.text.strip() == "Back <off> with jitter."
    relay.reset()  # a restart discards the partial reply
    assert relay.catch_up_frame() is None
