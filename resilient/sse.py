"""Server-sent events, decoded incrementally from the bytes of a streaming response.

The Messages API streams `event: <type>` / `data: <json>` blocks separated by a blank line.
`SSEDecoder.feed` takes whatever the socket delivered (a piece of an event, or several events)
and returns the events it completed, as `(event type, data)`; the rest waits for the next
chunk. Lines end in LF or CRLF (a lone CR, which the API never sends, is not taken as a line
end). Only complete lines are decoded, so a UTF-8 character split across two reads is never
cut. Comments (`: ...`), `id:` and `retry:` are ignored: the API does not resume streams.

Decoding here instead of through the SDK's typed stream keeps a streamed piece of text at a
split, a `json.loads` and a dict lookup: the SDK builds and validates a model object for every
event, which was most of the client's CPU per token.
"""

from __future__ import annotations

from typing import NamedTuple


class ServerEvent(NamedTuple):
    event: str
    data: str


class SSEDecoder:
    def __init__(self) -> None:
        self._pending = b""
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        buffer = self._pending + chunk if self._pending else chunk
        end = buffer.rfind(b"\n")
        if end < 0:
            self._pending = buffer
            return []
        complete, self._pending = buffer[: end + 1], buffer[end + 1 :]
        if b"\r" in complete:
            complete = complete.replace(b"\r\n", b"\n")
        events: list[ServerEvent] = []
        for line in complete.split(b"\n")[:-1]:
            if not line:
                if self._data or self._event:
                    events.append(self._dispatch())
                continue
            if line[0] == 0x3A:  # ":" starts a comment
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
        return events

    def _dispatch(self) -> ServerEvent:
        event = ServerEvent(
            self._event or "message", b"\n".join(self._data).decode("utf-8", "replace")
        )
        self._event = ""
        self._data = []
        return event
