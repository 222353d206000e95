from __future__ import annotations

import contextvars
import logging

from resilient.caching import cached_system
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
