"""The lab websocket's CSRF defence: a socket is accepted only from a page of this site.

A browser sends the page's origin (scheme, host and port) with every websocket handshake,
and cookies go with it whatever the page, so the origin is what tells our own page from
another site's. Channels' `AllowedHostsOriginValidator` compares the host name only: a page at
`http://course.example.org:8080` (another service on the same machine) or a plain-HTTP page
beside an HTTPS site would pass. Here the origin must be the very site the socket came to,
as the `Host` header and the scheme name it (the scheme from `X-Forwarded-Proto` only behind a
declared TLS proxy), or one of `CSRF_TRUSTED_ORIGINS` (as for Django's own CSRF check of
forms); its host must be in `ALLOWED_HOSTS` either way.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def parse_origin(value: str) -> Origin | None:
    """`scheme://host[:port]` as a browser sends it, or None if it is anything else."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return Origin(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme])


def site_origin(host_header: str, scheme: str) -> Origin | None:
    """The origin of the site a request reached, from its `Host` header and scheme."""
    domain, port = split_domain_port(host_header.strip().lower())
    if not domain:
        return None
    return Origin(scheme, domain.strip("[]"), int(port) if port else DEFAULT_PORTS[scheme])


def _trusted(origin: Origin, patterns: list[str]) -> bool:
    for pattern in patterns:
        wildcard = "://*." in pattern
        trusted = parse_origin(pattern.replace("://*.", "://", 1))
        if trusted is None or (trusted.scheme, trusted.port) != (origin.scheme, origin.port):
            continue
        if origin.host == trusted.host or (wildcard and origin.host.endswith("." + trusted.host)):
            return True
    return False


def origin_allowed(
    origin: str | None,
    site: Origin | None,
    *,
    allowed_hosts: list[str],
    trusted: list[str],
) -> bool:
    """Whether a page at `origin` may open a socket on the site at `site` (None: unknown)."""
    page = parse_origin(origin) if origin else None
    if page is None:
        return False
    host = f"[{page.host}]" if ":" in page.host else page.host
    if not validate_host(host, allowed_hosts):
        return False
    if _trusted(page, trusted):
        return True
    # Without a Host header (not something a browser can send) only the host name is known.
    return site is None or page == site


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def scope_site(scope: dict[str, Any]) -> Origin | None:
    host = _header(scope, b"host")
    if host is None:
        return None
    secure = scope.get("scheme") in ("wss", "https")
    if getattr(settings, "TLS_PROXY", False):
        secure = secure or (_header(scope, b"x-forwarded-proto") or "").lower() == "https"
    return site_origin(host, "https" if secure else "http")


class SameOriginValidator:
    """ASGI middleware for websockets: deny a handshake from any page not of this site."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        allowed = origin_allowed(
            _header(scope, b"origin"),
            scope_site(scope),
            allowed_hosts=list(settings.ALLOWED_HOSTS),
            trusted=list(settings.CSRF_TRUSTED_ORIGINS),
        )
        if allowed:
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
