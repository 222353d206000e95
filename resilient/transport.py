"""HTTP/1.1 for streamed Messages API replies, lean enough to run once per event.

The SDK's default transport (httpx2 over httpcore2, anyio and h11) spends more CPU on each
event of a streamed reply than the rest of a turn does: every event is its own socket read,
passed through an anyio cancel scope, an h11 event and several generators. This transport
speaks the HTTP/1.1 the API needs, over an `asyncio.Protocol`: a body read returns everything
that has arrived since the last one, its chunked framing removed, as one piece.

A caller can also pace a reply (`BodyControl`, in the response's extensions): one that uses
text no faster than every N seconds (the labs send the page a frame every `FRAME_INTERVAL`)
says so once text has started, and the body then waits that long between reads, not reading
the socket meanwhile. What arrived in the meantime leaves as one piece: one wake-up per
interval instead of one per event.

Connections are kept alive and reused per (scheme, host, port), also after a reply whose
caller stopped reading at its final event (`BodyControl.drain`): the end of the body is read
in the background, so that the next turn does not pay for a new connection (a TLS handshake
with the real API). Failures leave as httpx2's own
exceptions, so the SDK and `resilient.errors.classify` treat them as they treat the default
transport's. Not supported: proxies (`proxies_configured()`: keep the SDK's default client
then), HTTP/2, `Expect: 100-continue`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.request
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast

import httpx2

MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNK_LINE = 4096
KEEPALIVE_SECONDS = 5.0  # an idle connection older than this is closed, not reused
MAX_IDLE_PER_HOST = 100
DRAIN_SECONDS = 2.0  # how long a finished reply's leftover framing may take to arrive

Reject = Callable[[str], Exception]


def proxies_configured() -> bool:
    """True when the environment names an HTTP(S) proxy, which this transport does not speak."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


@dataclass(slots=True)
class BodyControl:
    """What the caller of one response may ask of its body (`extensions["body_control"]`).

    `interval`: wait that long between reads (seconds; 0: read as soon as anything arrives);
    the socket is not read meanwhile (`_Connection.receive(after=...)`).
    `drain`: the caller has all it needs (the stream's final event came), so closing the
    response reads what is left of the body (only framing, normally) in the background, for a
    few seconds at most, and keeps the connection for the next request instead of closing it.
    """

    interval: float = 0.0
    drain: bool = False
    last_read: float = 0.0  # when the last read returned
    body: _Body | None = None  # the response's body, for `body_chunks`

    def due_in(self) -> float:
        """Seconds until the next read is due (0: now)."""
        if not self.interval:
            return 0.0
        return max(0.0, self.last_read + self.interval - time.monotonic())


def body_chunks(response: httpx2.Response) -> AsyncIterator[bytes]:
    """A streamed response's body as it arrives.

    From this transport, without a content encoding: straight from the body, one async
    generator where `aiter_bytes()` stacks three (its own, `aiter_raw`, the client's bound
    stream), each stepped for every read and every piece it yields. Otherwise `aiter_bytes()`.
    """
    control = response.extensions.get("body_control")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if isinstance(control, BodyControl) and control.body is not None and encoding == "identity":
        response.is_stream_consumed = True
        return control.body.__aiter__()
    return response.aiter_bytes()


class _Connection(asyncio.Protocol):
    """One socket: what has arrived, whether it has ended, and a reader waiting for more."""

    def __init__(self, key: tuple[str, str, int]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self.reused = False
        self._buffer = bytearray()
        self._ended = False
        self._error: BaseException | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._held = False  # reading paused (`hold`)
        # The read timeout, checked by one timer re-armed only when it fires early: a reply
        # is read every few tens of milliseconds, and a timer per read cost more than the read.
        self._deadline: float | None = None
        self._deadline_timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self._ended = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._error = exc
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def _resume(self) -> None:
        self.hold(False)
        if self._buffer:  # arrived before the pause: nothing new may come to wake the reader
            self._wake()

    def _wake(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def _expect_by(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        self._deadline = deadline
        timer = self._deadline_timer
        if timer is not None and timer.when() > deadline:  # a shorter timeout than the last
            timer.cancel()
            timer = None
        if timer is None:
            self._deadline_timer = loop.call_at(deadline, self._check_deadline, loop)

    def _check_deadline(self, loop: asyncio.AbstractEventLoop) -> None:
        self._deadline_timer = None
        if self._deadline is None:
            return  # no read is waiting: the next one arms the timer again
        if loop.time() < self._deadline:
            self._deadline_timer = loop.call_at(self._deadline, self._check_deadline, loop)
        elif self._readable is not None and not self._readable.done():
            self._readable.set_exception(TimeoutError())

    # used by the transport
    @property
    def usable(self) -> bool:
        """Idle and still open: nothing unexpected arrived, the server has not hung up."""
        return (
            not self._ended
            and not self._buffer
            and self.transport is not None
            and not self.transport.is_closing()
            and time.monotonic() - self.idle_since < KEEPALIVE_SECONDS
        )

    async def write(self, data: bytes, timeout: float | None, request: httpx2.Request) -> None:
        if self._ended or self.transport is None or self.transport.is_closing():
            raise httpx2.WriteError(
                "connection closed before the request was sent", request=request
            )
        self.transport.write(data)
        if self._writable is not None:
            await _within(
                self._writable, timeout, httpx2.WriteTimeout, "sending the request", request
            )
        if self._error is not None:
            raise httpx2.WriteError(str(self._error), request=request) from self._error

    async def receive(
        self,
        timeout: float | None,
        request: httpx2.Request,
        *,
        after: float = 0.0,
        grid: float = 0.0,
    ) -> bytes:
        """What has arrived (at least one byte), or b"" once the server has ended the stream.

        `after` > 0: not before about that many seconds, moved to the nearest tick of a `grid`
        every paced connection of the loop shares (`_Pacer`). The socket is not read meanwhile:
        what arrives waits in the kernel, so the event loop is not woken once per event only
        to buffer it, and the reader wakes once, when the read is due and data is there.
        """
        loop = asyncio.get_running_loop()
        resume = None
        if after > 0 and not self._ended:
            self.hold(True)
            resume = _pacer(loop).resume_at(self, loop.time() + after, grid)
        if (resume is not None or not self._buffer) and not self._ended:
            self._readable = loop.create_future()
            if timeout is not None:
                self._expect_by(loop, loop.time() + after + timeout)
            try:
                await self._readable
            except TimeoutError:
                raise httpx2.ReadTimeout(
                    "timed out waiting for the response", request=request
                ) from None
            finally:
                self._readable = None
                self._deadline = None
                if resume is not None:
                    resume.cancel()
                    self.hold(False)
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if self._error is not None:
            raise httpx2.ReadError(str(self._error) or "connection reset", request=request)
        return b""

    def hold(self, held: bool) -> None:
        """Stop (True) or resume (False) reading the socket."""
        if self.transport is None or self.transport.is_closing() or held is self._held:
            return
        self._held = held
        if held:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def unread(self, data: bytes) -> None:
        self._buffer[:0] = data

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self._ended = True
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None


class _Pacer:
    """Resumes the paced connections of one event loop together, on a shared grid of ticks.

    Each due read is moved to the nearest tick of its grid (its read interval), so a process
    streaming many replies wakes once per tick for all of them instead of once per reply: one
    timer, one `epoll` wait and one pass of the loop serve every reply due then. A reply read
    on one tick is due about one interval later, which rounds to the next tick.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._ticks: dict[tuple[float, int], set[_Connection]] = {}

    def resume_at(self, connection: _Connection, when: float, grid: float) -> _Resume:
        if grid <= 0:
            return self._loop.call_at(when, connection._resume)
        key = (grid, round(when / grid))
        if key[1] * grid <= self._loop.time():
            return self._loop.call_soon(connection._resume)
        due = self._ticks.get(key)
        if due is None:
            due = self._ticks[key] = set()
            self._loop.call_at(key[1] * grid, self._tick, key)
        due.add(connection)
        return _OnTick(due, connection)

    def _tick(self, key: tuple[float, int]) -> None:
        due = self._ticks.pop(key, set())
        for connection in due:
            connection._resume()
        due.clear()


class _OnTick:
    """A connection's place on a tick; `cancel` takes it off (its read came another way)."""

    __slots__ = ("_due", "_connection")

    def __init__(self, due: set[_Connection], connection: _Connection) -> None:
        self._due = due
        self._connection = connection

    def cancel(self) -> None:
        self._due.discard(self._connection)


_Resume = asyncio.Handle | _OnTick
_pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pacer] = weakref.WeakKeyDictionary()


def _pacer(loop: asyncio.AbstractEventLoop) -> _Pacer:
    pacer = _pacers.get(loop)
    if pacer is None:
        pacer = _pacers[loop] = _Pacer(loop)
    return pacer


async def _within(
    future: asyncio.Future[None],
    timeout: float | None,
    error: type[httpx2.TimeoutException],
    doing: str,
    request: httpx2.Request,
) -> None:
    try:
        async with asyncio.timeout(timeout):
            await future
    except TimeoutError:
        raise error(f"timed out {doing}", request=request) from None


class _NoResponse(Exception):
    """The connection failed before any byte of the response: safe to send again elsewhere."""

    def __init__(self, error: httpx2.TransportError) -> None:
        self.error = error


class _Head:
    """The status line and headers of a response."""

    def __init__(
        self, status: int, reason: bytes, version: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers

    def values(self, name: bytes) -> list[bytes]:
        return [value.strip().lower() for key, value in self.headers if key.lower() == name]


def parse_head(data: bytes, reject: Reject) -> _Head:
    """A response head without its final blank line."""
    lines = data.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise reject(f"malformed status line {lines[0][:80]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in b" \t":
            raise reject(f"malformed header line {line[:80]!r}")
        headers.append((name, value.strip(b" \t")))
    return _Head(int(parts[1]), parts[2] if len(parts) > 2 else b"", parts[0], headers)


class ChunkedDecoder:
    """Removes `Transfer-Encoding: chunked` framing from bytes that arrive in any split.

    The API sends each event as a chunk of its own, so one read holds several: the bytes are
    walked by position, and only an unfinished framing line is kept for the next read.
    """

    def __init__(self, reject: Reject) -> None:
        self._reject = reject
        self._pending = b""  # an unfinished size, data-end or trailer line
        self._left = 0  # bytes of the current chunk's data still to come
        self._state = "size"  # size | data | data_end | trailer
        self.done = False

    def feed(self, data: bytes) -> bytes:
        if self._pending:
            data, self._pending = self._pending + data, b""
        out: list[bytes] = []
        pos, size = 0, len(data)
        while pos < size and not self.done:
            if self._state == "data":
                take = min(self._left, size - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if self._left == 0:
                    self._state = "data_end"
                continue
            end = data.find(b"\r\n", pos)
            if end < 0:
                if size - pos > MAX_CHUNK_LINE:
                    raise self._reject("chunk framing line too long")
                self._pending = data[pos:]
                break
            line = data[pos:end]
            pos = end + 2
            if self._state == "size":
                digits = line.split(b";", 1)[0].strip()
                try:
                    self._left = int(digits, 16)
                except ValueError:
                    raise self._reject(f"malformed chunk size {digits[:20]!r}") from None
                self._state = "data" if self._left else "trailer"
            elif self._state == "data_end":
                if line:
                    raise self._reject("chunk data longer than its size")
                self._state = "size"
            elif not line:  # the blank line after the (usually absent) trailers
                self.done = True
        return out[0] if len(out) == 1 else b"".join(out)


class _LengthBody:
    def __init__(self, length: int) -> None:
        self._left = length
        self.done = length == 0

    def feed(self, data: bytes) -> bytes:
        data = data[: self._left]
        self._left -= len(data)
        self.done = self._left == 0
        return data


class _UntilClose:
    done = False

    def feed(self, data: bytes) -> bytes:
        return data


class _Body(httpx2.AsyncByteStream):
    """A response body: yields what each read brought; returns the connection when complete."""

    def __init__(
        self,
        connection: _Connection,
        framing: ChunkedDecoder | _LengthBody | _UntilClose,
        first: bytes,
        *,
        reusable: bool,
        release: Callable[[_Connection], None],
        request: httpx2.Request,
        timeout: float | None,
        control: BodyControl,
    ) -> None:
        self._connection = connection
        self._framing = framing
        self._first = first
        self._reusable = reusable
        self._release = release
        self._request = request
        self._timeout = timeout
        self._control = control
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        framing = self._framing
        control = self._control
        control.last_read = time.monotonic()  # the head's read brought the body's first bytes
        data = framing.feed(self._first) if self._first else b""
        if data:
            yield data
        while not framing.done:
            raw = await self._connection.receive(
                self._timeout, self._request, after=control.due_in(), grid=control.interval
            )
            control.last_read = time.monotonic()
            if not raw:
                if isinstance(framing, _UntilClose):
                    break
                raise httpx2.RemoteProtocolError(
                    "peer closed connection without sending complete message body",
                    request=self._request,
                )
            data = framing.feed(raw)
            if data:
                yield data
        self._finished = True

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None  # type: ignore[assignment]
        if connection is None:
            return
        self._control.body = None  # the control outlives the body in the response
        if self._finished and self._reusable:
            self._release(connection)
        elif self._control.drain and self._reusable:
            task = asyncio.get_running_loop().create_task(self._drain(connection))
            _draining.add(task)
            task.add_done_callback(_draining.discard)
        else:
            connection.close()

    async def _drain(self, connection: _Connection) -> None:
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while not self._framing.done:
                    raw = await connection.receive(DRAIN_SECONDS, self._request)
                    if not raw:
                        break
                    self._framing.feed(raw)
        except (TimeoutError, httpx2.HTTPError):
            pass
        finally:
            if self._framing.done:
                self._release(connection)
            else:
                connection.close()


_draining: set[asyncio.Task[None]] = set()  # drains in flight, referenced until they end


class StreamingTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport for the Messages API: HTTP/1.1, kept-alive connections, paced reads."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(
                f"unsupported URL scheme {url.scheme!r}", request=request
            )
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        message = _request_bytes(request, await request.aread())
        connection = self._idle_connection(key)
        if connection is None:
            connection = await self._connect(key, timeouts.get("connect"), request)
        try:
            return await self._exchange(connection, message, request, timeouts)
        except _NoResponse as failed:
            if not connection.reused:
                raise failed.error from failed.error.__cause__
        # A kept-alive connection the server closed as we sent: once more, on a new one.
        connection = await self._connect(key, timeouts.get("connect"), request)
        try:
            return await self._exchange(connection, message, request, timeouts)
        except _NoResponse as failed:
            raise failed.error from failed.error.__cause__

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _idle_connection(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.usable:
                connection.reused = True
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.key, [])
        if len(idle) >= MAX_IDLE_PER_HOST:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(
        self, key: tuple[str, str, int], timeout: float | None, request: httpx2.Request
    ) -> _Connection:
        scheme, host, port = key
        context = None
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = httpx2.create_ssl_context()
            context = self._ssl_context
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(key),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout(
                f"timed out connecting to {host}:{port}", request=request
            ) from None
        except OSError as exc:  # ssl.SSLError included
            raise httpx2.ConnectError(str(exc), request=request) from exc
        return connection

    async def _exchange(
        self,
        connection: _Connection,
        message: bytes,
        request: httpx2.Request,
        timeouts: dict[str, float | None],
    ) -> httpx2.Response:
        read_timeout = timeouts.get("read")
        try:
            try:
                await connection.write(message, timeouts.get("write"), request)
            except httpx2.WriteError as exc:
                raise _NoResponse(exc) from exc
            head, rest = await _read_head(connection, read_timeout, request)
            framing = _framing(head, request)
        except BaseException:
            connection.close()
            raise
        control = BodyControl()
        body = _Body(
            connection,
            framing,
            rest,
            reusable=_keeps_alive(head, request),
            release=self._release,
            request=request,
            timeout=read_timeout,
            control=control,
        )
        control.body = body
        return httpx2.Response(
            head.status,
            headers=head.headers,
            stream=body,
            extensions={
                "http_version": head.version,
                "reason_phrase": head.reason,
                "body_control": control,
            },
        )


async def _read_head(
    connection: _Connection, timeout: float | None, request: httpx2.Request
) -> tuple[_Head, bytes]:
    """The first non-informational response head and whatever body bytes came with it."""

    def reject(text: str) -> httpx2.RemoteProtocolError:
        return httpx2.RemoteProtocolError(text, request=request)

    received = bytearray()
    while True:
        end = received.find(b"\r\n\r\n")
        if end >= 0:
            head = parse_head(bytes(received[:end]), reject)
            del received[: end + 4]
            if 100 <= head.status < 200:
                continue  # informational: the real head follows
            return head, bytes(received)
        if len(received) > MAX_HEAD_BYTES:
            raise reject("response head too long")
        try:
            data = await connection.receive(timeout, request)
        except httpx2.ReadError as exc:
            if received:
                raise
            raise _NoResponse(exc) from exc
        if not data:
            gone = reject("server disconnected without sending a response")
            if received:
                raise gone
            raise _NoResponse(gone)
        received += data


def _framing(head: _Head, request: httpx2.Request) -> ChunkedDecoder | _LengthBody | _UntilClose:
    def reject(text: str) -> Exception:
        return httpx2.RemoteProtocolError(text, request=request)

    if request.method == "HEAD" or head.status in (204, 304):
        return _LengthBody(0)
    encodings = head.values(b"transfer-encoding")
    if encodings:
        if encodings[-1].split(b",")[-1].strip() != b"chunked":
            raise reject("unsupported transfer-encoding")
        return ChunkedDecoder(reject)
    lengths = set(head.values(b"content-length"))
    if len(lengths) > 1:
        raise reject("conflicting content-length headers")
    if lengths:
        length = lengths.pop()
        if not length.isdigit():
            raise reject(f"malformed content-length {length[:20]!r}")
        return _LengthBody(int(length))
    return _UntilClose()


def _keeps_alive(head: _Head, request: httpx2.Request) -> bool:
    if head.version != b"HTTP/1.1" or b"close" in head.values(b"connection"):
        return False
    if request.headers.get("connection", "").lower() == "close":
        return False
    # A body that ends only when the connection closes leaves nothing to reuse.
    return bool(head.values(b"transfer-encoding") or head.values(b"content-length"))


def _request_bytes(request: httpx2.Request, body: bytes) -> bytes:
    target = request.url.raw_path
    lines = [request.method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    chunked = False
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding":
            chunked = True  # sent whole, with its length: the body is already in memory
            continue
        lines.append(name + b": " + value)
    if chunked:
        lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
