from __future__ import annotations

import contextvars
import logging

from resilient.caching import cached_conversation, cached_system
from resilient.telemetry import (
    CallRecord,
    correlation_id,
    correlation_scope,
    emit,
    new_correlation_id,
)


def test_cached_system_marks_only_the_static_prefix():
    blocks = cached_system("persona and lesson", "learner is on lesson 2")
    assert blocks == [
        {"type": "text", "text": "persona and lesson", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "learner is on lesson 2"},
    ]
    assert len(cached_system("persona")) == 1


MARK = {"cache_control": {"type": "ephemeral"}}


def test_cached_conversation_marks_the_last_two_learner_turns():
    messages = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "reply one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "reply two"},
        {"role": "user", "content": [{"type": "text", "text": "three"}]},
    ]
    before = [dict(m) for m in messages]
    marked = cached_conversation(messages)
    # Every turn is sent as blocks, so it is the same block in every request that carries it.
    assert marked[0] == {"role": "user", "content": [{"type": "text", "text": "one"}]}
    assert marked[3] == {"role": "assistant", "content": [{"type": "text", "text": "reply two"}]}
    assert marked[2]["content"] == [{"type": "text", "text": "two", **MARK}]
    assert marked[4]["content"] == [{"type": "text", "text": "three", **MARK}]
    assert messages == before  # the caller's list and blocks are left alone


def test_a_first_turn_has_one_conversation_breakpoint():
    marked = cached_conversation([{"role": "user", "content": "hi"}])
    assert marked == [{"role": "user", "content": [{"type": "text", "text": "hi", **MARK}]}]


def test_correlation_scope_sets_and_restores():
    def check() -> None:
        outer = new_correlation_id()
        with correlation_scope("turn-42") as cid:
            assert cid == "turn-42" == correlation_id()
        assert correlation_id() == outer

    # In a context of its own: the id set here must not leak into later tests.
    contextvars.copy_context().run(check)
    assert correlation_id() is None


def test_emit_logs_the_record_as_fields_and_survives_a_broken_hook(caplog):
    seen = []

    def broken(record):
        raise RuntimeError("metrics down")

    record = CallRecord(
        correlation_id="c1", model="m", outcome="completed", attempts=2, latency=1.23456
    )
    with caplog.at_level(logging.INFO, logger="resilient"):
        emit(record, (broken, seen.append))
    assert seen == [record]
    logged = [r.msg for r in caplog.records if r.name == "resilient" and r.levelno == logging.INFO]
    assert len(logged) == 1 and isinstance(logged[0], dict)
    assert logged[0]["correlation_id"] == "c1" and logged[0]["attempts"] == 2
    assert logged[0]["latency"] == 1.2346 and logged[0]["event"] == "resilient.call"
    assert any("metrics hook" in r.getMessage() for r in caplog.records if r.levelno >= 40)
