from __future__ import annotations

import json

import pytest

from resilient.sse import ServerEvent, SSEDecoder

STREAM = (
    b"event: message_start\n"
    b'data: {"type": "message_start"}\n'
    b"\n"
    b": a comment the server sends to keep the line open\n"
    b"event: content_block_delta\n"
    b"id: 7\n"
    b'data: {"delta": {"type": "text_delta", "text": "caf\xc3\xa9 \xe2\x80\x94 ok"}}\n'
    b"\n"
    b"event: ping\n"
    b"data: {}\n"
    b"\n"
)
EXPECTED = [
    ServerEvent("message_start", '{"type": "message_start"}'),
    ServerEvent("content_block_delta", '{"delta": {"type": "text_delta", "text": "café — ok"}}'),
    ServerEvent("ping", "{}"),
]


def decode_in_pieces(stream: bytes, size: int) -> list[ServerEvent]:
    decoder = SSEDecoder()
    events: list[ServerEvent] = []
    for start in range(0, len(stream), size):
        events.extend(decoder.feed(stream[start : start + size]))
    return events


def test_it_decodes_a_stream_read_in_one_piece():
    assert SSEDecoder().feed(STREAM) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_it_gives_the_same_events_whatever_the_reads_split(size):
    # Size 1 splits every multi-byte character of the text across two reads.
    assert decode_in_pieces(STREAM, size) == EXPECTED


def test_it_reads_crlf_line_ends_even_when_cr_and_lf_arrive_apart():
    crlf = STREAM.replace(b"\n", b"\r\n")
    assert decode_in_pieces(crlf, 1) == EXPECTED
    assert SSEDecoder().feed(crlf) == EXPECTED


def test_it_holds_an_event_until_its_blank_line_arrives():
    decoder = SSEDecoder()
    assert decoder.feed(b'event: message_stop\ndata: {"type": "message_stop"}\n') == []
    assert decoder.feed(b"\n") == [ServerEvent("message_stop", '{"type": "message_stop"}')]


def test_it_joins_several_data_lines_with_newlines_and_defaults_the_event_name():
    events = SSEDecoder().feed(b'data: {"a":\ndata: 1}\n\n')
    assert events == [ServerEvent("message", '{"a":\n1}')]
    assert json.loads(events[0].data) == {"a": 1}


def test_it_ignores_blank_lines_between_events():
    assert SSEDecoder().feed(b"\n\n: only a comment\n\n") == []


@pytest.mark.parametrize("data", ['{"delta": {"type": "text_delta", "te', "[1, 2]"])
def test_a_garbled_event_is_a_network_failure_the_client_retries(data):
    from resilient.errors import NetworkError
    from resilient.stream import _Reply

    with pytest.raises(NetworkError, match="malformed content_block_delta"):
        _Reply().take([ServerEvent("content_block_delta", data)], None)
