"""`make run` serves the product: debug mode off, a key of its own, plain HTTP on a classroom
network; TLS redirects and HSTS only behind a declared proxy; debug mode only when asked."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench.loopback import Process, free_port, wait_ready
from tests.conftest import REPO

# Variables the tests below decide; anything the caller's shell has set for them is dropped.
DECIDED = (
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ALLOWED_HOSTS",
    "HOST",
    "TLS_PROXY",
    "DATABASE_URL",
    "REDIS_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
)

_READ = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "allowed_hosts": s.ALLOWED_HOSTS,
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "hsts": s.SECURE_HSTS_SECONDS,
    "session_cookie_secure": s.SESSION_COOKIE_SECURE,
    "proxy_header": s.SECURE_PROXY_SSL_HEADER,
}))
"""


def clean_env(**env: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if k not in DECIDED}
    return {**kept, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "ERROR", **env}


def settings_under(**env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _READ],
        cwd=REPO,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_debug_mode_is_off_unless_asked_for():
    assert settings_under()["debug"] is False
    assert settings_under(DEBUG="1")["debug"] is True


def test_the_host_names_follow_the_address_the_server_listens_on():
    assert settings_under()["allowed_hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert "192.168.1.20" in settings_under(HOST="192.168.1.20")["allowed_hosts"]
    classroom = settings_under(HOST="0.0.0.0")["allowed_hosts"]
    assert socket.gethostname().lower() in classroom
    assert settings_under(HOST="0.0.0.0", ALLOWED_HOSTS="course.example.org")["allowed_hosts"] == [
        "course.example.org"
    ]


def test_plain_http_is_served_as_is_until_a_tls_proxy_is_declared():
    classroom = settings_under(HOST="0.0.0.0")
    assert classroom["ssl_redirect"] is False and classroom["hsts"] == 0
    assert classroom["session_cookie_secure"] is False and classroom["proxy_header"] is None
    proxied = settings_under(TLS_PROXY="1", ALLOWED_HOSTS="course.example.org")
    assert proxied["ssl_redirect"] is True and proxied["hsts"] == 31536000
    assert proxied["session_cookie_secure"] is True
    assert proxied["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def make_run(tmp_path) -> Process:
    """`make run` as a teacher types it, on a free port with its own database and static files."""
    port = free_port()
    log = tmp_path / "make-run.log"
    env = clean_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), STATIC_ROOT=str(tmp_path / "static"))
    env.pop("DJANGO_SETTINGS_MODULE")
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            # The venv is installed already: do not let make reinstall it.
            ["make", "-o", ".venv/.installed-stamp", "run", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, daphne and the rest stop together
        )
    process = Process("make run", port, popen, log)
    try:
        wait_ready(process, "/healthz", timeout=120)
        yield process
    finally:
        if popen.poll() is None:
            os.killpg(popen.pid, signal.SIGTERM)
        popen.wait(20)


def test_make_run_serves_the_product_without_debug_pages(make_run: Process):
    port = make_run.port
    assert f"http://127.0.0.1:{port}/" in make_run.log_tail()  # the address to hand out

    status, headers, body = get(port, "/no-such-page/")
    assert status == 404
    assert "URLconf" not in body and "DEBUG = True" not in body  # not Django's debug page

    status, headers, body = get(port, "/")
    assert status == 200  # plain HTTP, no redirect to https
    assert "Strict-Transport-Security" not in headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, "static files are served under collectstatic's hashed names"
    assert get(port, stylesheet.group(1))[0] == 200

    assert get(port, "/", host="evil.example")[0] == 400  # not one of its host names
    assert Path(REPO / ".secret-key").is_file()
