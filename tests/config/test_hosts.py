"""The host names the site answers follow the address `make run` listens on."""

from __future__ import annotations

import pytest

from config.hosts import allowed_hosts, urls

LOOPBACK = ["127.0.0.1", "localhost", "[::1]"]
MACHINE = ["classroom-pc", "classroom-pc.local", "192.168.1.20", "fe80::1"]


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("127.0.0.1", LOOPBACK),
        ("localhost", LOOPBACK),
        ("::1", LOOPBACK),
        ("192.168.1.20", [*LOOPBACK, "192.168.1.20"]),
        ("course.school.example", [*LOOPBACK, "course.school.example"]),
        ("0.0.0.0", [*LOOPBACK, "classroom-pc", "classroom-pc.local", "192.168.1.20", "[fe80::1]"]),
        ("::", [*LOOPBACK, "classroom-pc", "classroom-pc.local", "192.168.1.20", "[fe80::1]"]),
    ],
)
def test_it_allows_the_names_a_browser_can_use_for_the_bind_address(bind, expected):
    assert allowed_hosts(bind, MACHINE) == expected


def test_the_machine_is_asked_only_for_a_wildcard_bind():
    assert allowed_hosts("127.0.0.1", MACHINE) == LOOPBACK


def test_make_run_prints_the_address_a_teacher_hands_out():
    assert urls("127.0.0.1", 8000) == ["http://127.0.0.1:8000/"]
    assert urls("192.168.1.20", 8001) == ["http://192.168.1.20:8001/"]
    every = urls("0.0.0.0", 8000)
    assert every[-1] == "http://127.0.0.1:8000/"
