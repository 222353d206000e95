"""The lab websocket opens only from a page of this site: scheme, host and port must match."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.origin import Origin, origin_allowed, site_origin

HOSTS = ["course.example.org", "192.168.1.20", "localhost", "[::1]"]
SITE = site_origin("192.168.1.20:8000", "http")


@pytest.mark.parametrize(
    ("origin", "site", "allowed"),
    [
        ("http://192.168.1.20:8000", SITE, True),
        ("http://192.168.1.20:8080", SITE, False),  # another service on the same machine
        ("https://192.168.1.20:8000", SITE, False),  # another scheme
        ("http://evil.example:8000", SITE, False),
        ("http://192.168.1.20.evil.example:8000", SITE, False),
        ("null", SITE, False),  # a sandboxed frame or a file
        (None, SITE, False),
        ("http://192.168.1.20:8000/path", SITE, False),
        ("https://course.example.org", site_origin("course.example.org", "https"), True),
        ("https://course.example.org:443", site_origin("course.example.org", "https"), True),
        ("http://course.example.org", site_origin("course.example.org", "https"), False),
        ("http://[::1]:8000", site_origin("[::1]:8000", "http"), True),
        # No Host header (not a browser): the host name is all there is to compare.
        ("http://localhost:9999", None, True),
        ("http://evil.example", None, False),
    ],
)
def test_only_the_sites_own_origin_is_allowed(origin, site, allowed):
    assert origin_allowed(origin, site, allowed_hosts=HOSTS, trusted=[]) is allowed


def test_a_trusted_origin_passes_behind_a_proxy_that_rewrites_the_host():
    behind = site_origin("127.0.0.1:8000", "http")
    trusted = ["https://course.example.org"]
    assert origin_allowed(
        "https://course.example.org", behind, allowed_hosts=HOSTS, trusted=trusted
    )
    assert not origin_allowed(
        "http://course.example.org", behind, allowed_hosts=HOSTS, trusted=trusted
    )
    assert origin_allowed(
        "https://eu.example.org",
        behind,
        allowed_hosts=[".example.org"],
        trusted=["https://*.example.org"],
    )


def test_the_site_origin_defaults_the_port_of_its_scheme():
    assert site_origin("course.example.org", "https") == Origin("https", "course.example.org", 443)
    assert site_origin("Course.Example.org:8000", "http") == Origin(
        "http", "course.example.org", 8000
    )


async def handshake(learner, origin: str, host: str, **extra: bytes) -> bool:
    from config.asgi import application

    client = Client()
    await sync_to_async(client.force_login)(learner)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", origin.encode()), (b"host", host.encode()), (b"cookie", cookie)]
    headers += [(name.encode(), value) for name, value in extra.items()]
    comm = WebsocketCommunicator(application, "/ws/labs/conversations/0/", headers=headers)
    connected, code = await comm.connect()
    await comm.disconnect()
    # A denied origin never reaches the lab's consumer; an allowed one does, and hears that
    # conversation 0 is not the learner's (4404).
    assert not connected
    return code == 4404


@pytest.mark.django_db(transaction=True)
async def test_a_page_on_another_port_cannot_open_a_lab_socket(learner, settings):
    settings.ALLOWED_HOSTS = ["192.168.1.20"]
    assert await handshake(learner, "http://192.168.1.20:8000", "192.168.1.20:8000")
    assert not await handshake(learner, "http://192.168.1.20:8080", "192.168.1.20:8000")
    assert not await handshake(learner, "https://192.168.1.20:8000", "192.168.1.20:8000")


@pytest.mark.django_db(transaction=True)
async def test_the_scheme_comes_from_the_proxy_only_when_one_is_declared(learner, settings):
    settings.ALLOWED_HOSTS = ["course.example.org"]
    proxied = {"x-forwarded-proto": b"https"}
    origin, host = "https://course.example.org", "course.example.org"
    settings.TLS_PROXY = False
    assert not await handshake(learner, origin, host, **proxied)
    settings.TLS_PROXY = True
    assert await handshake(learner, origin, host, **proxied)
