"""The host names a browser may use to reach the server, from the address it listens on.

`make run` binds daphne to `HOST` (127.0.0.1 by default; `HOST=0.0.0.0` for a classroom
network). Django answers only host names in `ALLOWED_HOSTS`, and the lab websocket accepts
pages only from them, so the settings derive that list from the same `HOST` instead of
asking a teacher to type it twice. A server listening on every interface is reached by this
machine's name and addresses; one listening on a single address, by that address.

    python -m config.hosts HOST PORT    # the addresses learners can open, one per line
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
from collections.abc import Iterable

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
EVERY_INTERFACE = frozenset({"", "0.0.0.0", "::"})
# Any address outside this machine: connecting a UDP socket sends nothing, it only asks the
# kernel which local address the default route would use (documentation range, RFC 5737).
_ROUTE_PROBE = ("192.0.2.1", 9)


def _as_host(name: str) -> str:
    """A host as it appears in a URL and in ALLOWED_HOSTS (IPv6 literals in brackets)."""
    bare = name.strip().strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return bare.lower()
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def _is_loopback(name: str) -> bool:
    bare = name.strip().strip("[]")
    if bare.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind: str, machine: Iterable[str] = ()) -> list[str]:
    """The names a browser may use for a server bound to `bind` on a machine known as `machine`.

    Loopback names always work (the teacher's own browser); a single address adds itself; every
    interface adds the machine's names and addresses.
    """
    bind = bind.strip()
    if bind.strip("[]") in EVERY_INTERFACE:
        extra = list(machine)
    elif _is_loopback(bind):
        extra = []
    else:
        extra = [bind]
    hosts: list[str] = []
    for name in [*LOOPBACK, *extra]:
        host = _as_host(name)
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def machine_names() -> list[str]:
    """This machine's host name (and its `.local` name on the network) and its addresses."""
    names: list[str] = []
    hostname = socket.gethostname()
    if hostname:
        names += [hostname, f"{hostname.split('.')[0]}.local"]
        with contextlib.suppress(OSError):
            names += [str(info[4][0]) for info in socket.getaddrinfo(hostname, None)]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_ROUTE_PROBE)
            names.append(str(probe.getsockname()[0]))
    except OSError:
        pass  # no route off this machine: loopback only
    return [name for name in names if not _is_loopback(name)]


def hosts_for(bind: str) -> list[str]:
    """`allowed_hosts` for this machine (the network is asked only for a wildcard bind)."""
    machine = machine_names() if bind.strip().strip("[]") in EVERY_INTERFACE else []
    return allowed_hosts(bind, machine)


def urls(bind: str, port: int) -> list[str]:
    """The addresses to hand out: learners on the network first, then this machine's own."""
    hosts = hosts_for(bind)
    outside = [host for host in hosts if not _is_loopback(host)]
    own = "127.0.0.1" if _is_loopback(bind) or bind.strip("[]") in EVERY_INTERFACE else None
    chosen = outside + ([own] if own else [])
    return [f"http://{host}:{port}/" for host in chosen]


def main(argv: list[str]) -> int:
    bind = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = int(argv[2]) if len(argv) > 2 else 8000
    for url in urls(bind, port):
        print(f"  {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
