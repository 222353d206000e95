from __future__ import annotations

from resilient.breaker import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_consecutive_overloads_and_probes_after_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooldown=10.0, clock=clock)
    for _ in range(2):
        breaker.record_overload()
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_overload()
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.state == "half_open"
    assert breaker.allow()  # one probe
    assert not breaker.allow()  # only one
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_a_failed_probe_reopens_for_a_full_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown=5.0, clock=clock)
    breaker.record_overload()
    clock.now = 5.0
    assert breaker.allow()
    breaker.record_overload()
    assert breaker.state == "open"
    clock.now = 9.9
    assert not breaker.allow()


def test_a_success_resets_the_count():
    breaker = CircuitBreaker(threshold=2, clock=FakeClock())
    breaker.record_overload()
    breaker.record_success()
    breaker.record_overload()
    assert breaker.state == "closed"
