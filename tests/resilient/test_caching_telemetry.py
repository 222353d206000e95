from __future__ import annotations

import json
import logging

from resilient.caching import cached_system
from resilient.telemetry import (
    CallRecord,
    correlation_id,
    correlation_scope,
    emit,
    new_correlation_id,
    to_json,
)


def test_cached_system_marks_only_the_static_prefix():
    blocks = cached_system("persona and lesson", "learner is on lesson 2")
    assert blocks == [
        {"type": "text", "text": "persona and lesson", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "learner is on lesson 2"},
    ]
    assert len(cached_system("persona")) == 1


def test_correlation_scope_sets_and_restores():
    outer = new_correlation_id()
    with correlation_scope("turn-42") as cid:
        assert cid == "turn-42" == correlation_id()
    assert correlation_id() == outer


def test_emit_logs_one_json_line_and_survives_a_broken_hook(caplog):
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
    # A deployment's logging filter may already have turned the JSON line into fields.
    data = logged[0] if isinstance(logged[0], dict) else json.loads(logged[0])
    assert data["correlation_id"] == "c1" and data["attempts"] == 2 and data["latency"] == 1.2346
    assert json.loads(to_json(record)) == json.loads(to_json(record)) | data
