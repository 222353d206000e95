"""The lean HTTP/1.1 transport against scripted loopback servers (and TLS with a test CA)."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2
import pytest

from resilient import transport
from resilient.errors import NetworkError, TimedOut, classify
from resilient.transport import BodyControl, ChunkedDecoder, StreamingTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server running `handler` once per request, on kept-alive connections."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.connections = 0
        self.requests: list[tuple[bytes, dict[bytes, bytes], bytes]] = []
        self._server: asyncio.Server | None = None
        self._open: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.transport.abort()
        await asyncio.gather(*self._open.values(), return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.ssl_context else "http"
        host = "localhost" if self.ssl_context else "127.0.0.1"
        return f"{scheme}://{host}:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._open[writer] = task
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                line, *header_lines = head[:-4].split(b"\r\n")
                headers = dict(h.split(b": ", 1) for h in header_lines)
                headers = {k.lower(): v for k, v in headers.items()}
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                self.requests.append((line, headers, body))
                await self.handler(reader, writer)
                if writer.is_closing():
                    return
        finally:
            self._open.pop(writer, None)
            writer.close()


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


HEAD_CHUNKED = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"


def reply(data: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return handler


def client(**kwargs: object) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=StreamingTransport(**kwargs), timeout=2.0)  # type: ignore[arg-type]


# --- chunked framing -----------------------------------------------------------------------


BODY = chunked(b"event: ping\n\n", b"data: {}\n\n", b"x" * 300)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, len(BODY)])
def test_chunked_framing_is_removed_however_the_bytes_are_split(step):
    decoder = ChunkedDecoder(ValueError)
    out = b"".join(decoder.feed(BODY[i : i + step]) for i in range(0, len(BODY), step))
    assert out == b"event: ping\n\ndata: {}\n\n" + b"x" * 300
    assert decoder.done


def test_chunk_extensions_and_trailers_are_accepted():
    decoder = ChunkedDecoder(ValueError)
    assert decoder.feed(b"3;name=value\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n") == b"abc"
    assert decoder.done


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"zz\r\nabc\r\n", "malformed chunk size"),
        (b"2\r\nabc\r\n", "chunk data longer than its size"),
        (b"1" * 5000, "chunk framing line too long"),
    ],
)
def test_malformed_chunk_framing_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        ChunkedDecoder(ValueError).feed(data)


# --- requests and responses over a socket ----------------------------------------------------


async def test_it_sends_the_request_and_reads_a_chunked_reply():
    async with (
        Server(reply(HEAD_CHUNKED + chunked(b"hello ", b"world"))) as server,
        client() as http,
    ):
        response = await http.post(
            server.url + "/v1/messages?beta=true", content=b'{"a": 1}', headers={"x-k": "v"}
        )
    assert response.status_code == 200 and response.text == "hello world"
    line, headers, body = server.requests[0]
    assert line == b"POST /v1/messages?beta=true HTTP/1.1"
    assert headers[b"x-k"] == b"v" and headers[b"host"].startswith(b"127.0.0.1:")
    assert body == b'{"a": 1}'


def test_it_runs_on_uvloop_as_uvicorn_serves_the_site():
    import uvloop

    async def exchange() -> tuple[str, int]:
        head = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        async with Server(reply(head)) as server, client() as http:
            texts = [(await http.get(server.url)).text for _ in range(2)]
        return "".join(texts), server.connections

    async def paced() -> bytes:  # reading paused and resumed on the shared ticks
        async with Server(trickle(20, 0.005)) as server, client() as http:
            return b"".join(await pieces(http, server.url, 0.02))

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(exchange()) == ("okok", 1)
        assert runner.run(paced()) == b"".join(b"data: %d\n\n" % n for n in range(20))


async def test_connections_are_kept_alive_and_reused():
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    async with Server(reply(head)) as server, client() as http:
        for _ in range(3):
            assert (await http.get(server.url)).text == "ok"
    assert server.connections == 1 and len(server.requests) == 3


async def test_a_reply_without_length_is_read_to_the_close_and_not_reused():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
        writer.close()

    async with Server(handler) as server, client() as http:
        assert (await http.get(server.url)).text == "until the end"
        assert (await http.get(server.url)).text == "until the end"
    assert server.connections == 2


async def test_an_idle_connection_the_server_closed_is_replaced_without_an_error():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        # Closes after the reply without saying so: the client finds out on its next request.
        writer.transport.abort()

    async with Server(handler) as server, client() as http:
        assert (await http.get(server.url)).text == "ok"
        await asyncio.sleep(0.05)
        assert (await http.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_a_body_cut_short_is_a_protocol_error_classified_as_network():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD_CHUNKED + b"5\r\nhel")
        await writer.drain()
        writer.close()

    async with Server(handler) as server, client() as http:
        with pytest.raises(httpx2.RemoteProtocolError) as caught:
            await http.get(server.url)
    assert isinstance(classify(caught.value), NetworkError)


async def test_a_silent_server_is_a_read_timeout():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(1)

    async with Server(handler) as server, client() as http:
        with pytest.raises(httpx2.ReadTimeout) as caught:
            await http.get(server.url, timeout=0.1)
    assert isinstance(classify(caught.value), TimedOut)


async def test_a_reused_connection_keeps_to_a_shorter_read_timeout():
    # The same kept-alive connection served a request with a long read timeout first.
    answered = False

    async def once_then_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        if not answered:
            answered = True
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
        else:
            await asyncio.sleep(1)

    async with Server(once_then_silent) as server, client() as http:
        assert (await http.get(server.url, timeout=30)).text == "ok"
        begun = asyncio.get_running_loop().time()
        with pytest.raises(httpx2.ReadTimeout):
            await http.get(server.url, timeout=0.1)
        assert asyncio.get_running_loop().time() - begun < 0.5
    assert server.connections == 1


async def test_the_read_timeout_is_per_read_not_for_the_whole_body():
    # 30 events 20 ms apart (0.6 s in all) under a 0.1 s read timeout: never silent that long.
    async with Server(trickle(30, 0.02)) as server, client() as http:
        response = await http.get(server.url, timeout=0.1)
    assert response.content == b"".join(b"data: %d\n\n" % n for n in range(30))


async def test_a_body_that_falls_silent_is_a_read_timeout_paced_or_not():
    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD_CHUNKED + b"7\r\nfirst\n\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.5)

    for interval in (0.0, 0.05):
        async with Server(stalls) as server, client() as http:
            with pytest.raises(httpx2.ReadTimeout):
                await pieces(http, server.url, interval, timeout=0.2)


async def test_a_refused_connection_is_a_connect_error():
    async with Server(reply(b"")) as server:
        url = server.url
    async with client() as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get(url)


@pytest.mark.parametrize(
    "head",
    [
        b"SPDY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
    ],
)
async def test_a_malformed_head_is_a_protocol_error(head):
    async with Server(reply(head)) as server, client() as http:
        with pytest.raises(httpx2.RemoteProtocolError):
            await http.get(server.url)


async def read_chunks(http: httpx2.AsyncClient, url: str) -> bytes:
    async with http.stream("GET", url) as response:
        return b"".join([chunk async for chunk in transport.body_chunks(response)])


async def test_body_chunks_are_the_body_as_sent_and_decoded_when_it_is_compressed():
    text = b"event: ping\n\n" * 50
    plain = HEAD_CHUNKED + chunked(text[:300], text[300:])
    squeezed = gzip.compress(text)
    gzipped = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n%s" % (
        len(squeezed),
        squeezed,
    )
    for raw in (plain, gzipped):
        async with Server(reply(raw)) as server, client() as http:
            assert await read_chunks(http, server.url) == text


# --- pacing and draining ---------------------------------------------------------------------


def trickle(count: int, gap: float, tail_delay: float = 0.0) -> Handler:
    """A chunked body of `count` events, `gap` seconds apart, the end `tail_delay` later."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD_CHUNKED)
        for n in range(count):
            event = b"data: %d\n\n" % n
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            await asyncio.sleep(gap)
        await asyncio.sleep(tail_delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return handler


async def pieces(
    http: httpx2.AsyncClient, url: str, interval: float, timeout: float = 2.0
) -> list[bytes]:
    received = []
    async with http.stream("GET", url, timeout=timeout) as response:
        control = response.extensions["body_control"]
        assert isinstance(control, BodyControl)
        async for chunk in response.aiter_raw():
            control.interval = interval  # as the resilient client does once text has started
            received.append(chunk)
    return received


async def test_a_paced_body_arrives_in_fewer_pieces_with_nothing_lost():
    async with Server(trickle(20, 0.005)) as server, client() as http:
        unpaced = await pieces(http, server.url, 0.0)
        paced = await pieces(http, server.url, 0.05)
    expected = b"".join(b"data: %d\n\n" % n for n in range(20))
    assert b"".join(unpaced) == b"".join(paced) == expected
    assert len(unpaced) >= 10  # one read per event when the reader keeps up
    assert len(paced) <= 5  # about 100 ms of events, read every 50 ms


async def test_between_paced_reads_the_socket_is_left_alone(monkeypatch):
    # What arrives while a paced reader waits stays in the kernel: the event loop is woken
    # about once per read, not once per event (40 events, 2 ms apart, read every 50 ms).
    wakes = 0
    received = transport._Connection.data_received

    def counting(self: transport._Connection, data: bytes) -> None:
        nonlocal wakes
        wakes += 1
        received(self, data)

    monkeypatch.setattr(transport._Connection, "data_received", counting)
    async with Server(trickle(40, 0.002)) as server, client() as http:
        paced = await pieces(http, server.url, 0.05)
    assert b"".join(paced) == b"".join(b"data: %d\n\n" % n for n in range(40))
    assert wakes <= 2 * len(paced) + 2 < 40


async def test_paced_replies_are_read_on_shared_ticks():
    # Two replies that started 20 ms apart: once paced, both are read on the same ticks, so a
    # process streaming many replies wakes once per tick for all of them.
    async def timed_reads(http: httpx2.AsyncClient, url: str, start: float) -> list[float]:
        await asyncio.sleep(start)
        reads = []
        async with http.stream("GET", url) as response:
            response.extensions["body_control"].interval = 0.05
            async for _ in transport.body_chunks(response):
                reads.append(asyncio.get_running_loop().time())
        return reads[2:]  # from the second paced read on

    async with Server(trickle(60, 0.005)) as server, client() as http:
        first, second = await asyncio.gather(
            timed_reads(http, server.url, 0.0), timed_reads(http, server.url, 0.02)
        )
    assert len(first) >= 3 and len(second) >= 3
    both = [t for t in second if t <= first[-1]]  # while both were streaming
    assert len(both) >= 3
    ticks = {round(t / 0.05) for t in first}
    assert all(round(t / 0.05) in ticks for t in both)
    assert all(abs(t - round(t / 0.05) * 0.05) < 0.015 for t in first + both)


async def test_a_paced_read_returns_what_arrived_before_it_even_if_nothing_follows():
    # The whole body is in before the reader's next read is due, and the server then sends
    # nothing more (it keeps the connection): the read still happens when due, not after the
    # client's read timeout.
    async def burst(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD_CHUNKED + b"7\r\nfirst\n\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(b"7\r\nrest!\n\n\r\n0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.5)

    async with Server(burst) as server, client() as http:
        begun = asyncio.get_running_loop().time()
        paced = await pieces(http, server.url, 0.2)
        took = asyncio.get_running_loop().time() - begun
    assert paced == [b"first\n\n", b"rest!\n\n"]
    assert 0.09 < took < 1.0  # paced: the read waits for its tick, about 0.2 s


async def test_a_due_read_returns_what_was_buffered_though_nothing_more_comes():
    # Data that arrived while the reader was busy elsewhere is returned when the read is due,
    # although the paused socket brings nothing new to wake the reader.
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"abc")
        await writer.drain()
        await asyncio.sleep(0.5)

    loop = asyncio.get_running_loop()
    async with Server(once) as server:
        request = httpx2.Request("GET", server.url)
        port = request.url.port or 80
        _, connection = await loop.create_connection(
            lambda: transport._Connection(("http", "127.0.0.1", port)), "127.0.0.1", port
        )
        try:
            await connection.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", 1.0, request)
            await asyncio.sleep(0.05)  # "abc" is in the connection's buffer by now
            begun = loop.time()
            assert await connection.receive(1.0, request, after=0.1) == b"abc"
            assert 0.08 < loop.time() - begun < 0.5
        finally:
            connection.close()


async def test_a_reply_closed_at_its_final_event_keeps_its_connection_when_asked():
    async with Server(trickle(3, 0.0, tail_delay=0.05)) as server, client() as http:
        for drain in (True, True, False):
            async with http.stream("GET", server.url) as response:
                async for chunk in response.aiter_raw():
                    if b"data: 2" in chunk:
                        response.extensions["body_control"].drain = drain
                        break
            await asyncio.sleep(0.1)  # the end of the body arrives; drained in the background
        assert server.connections == 1
        async with http.stream("GET", server.url) as response:
            await response.aread()
    # The third reply was abandoned without `drain`: its connection was closed.
    assert server.connections == 2


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context for `localhost`, client context trusting only its test CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    trusting = ssl.create_default_context(cafile=str(cert_file))
    return server, trusting


async def test_it_speaks_tls_and_verifies_the_certificate(tls):
    server_context, trusting = tls
    body = HEAD_CHUNKED + chunked(b"over ", b"tls")
    async with Server(reply(body), ssl_context=server_context) as server:
        async with client(ssl_context=trusting) as http:
            assert (await http.get(server.url)).text == "over tls"
            assert (await http.get(server.url)).text == "over tls"
        async with client() as http:  # the system's CAs do not know the test CA
            with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(server.url)
    # One connection kept alive for both requests; the refused handshake never got that far.
    assert server.connections == 1
