"""Frames round-trip, and every malformed or oversized frame gets the error a client can act on."""

from __future__ import annotations

import uuid
from typing import Any

import msgpack
import pytest

from edittrace.protocol import (
    Ack,
    Batch,
    Error,
    ErrorCode,
    Event,
    Hello,
    Limits,
    ProtocolError,
    Welcome,
    decode_frame,
    encode_frame,
)
from edittrace.protocol.events import DocChange, DocOpen

SESSION = "0f8fad5b-d9cb-469f-a165-70867728950e"


def doc_open(seq: int = 1) -> Event:
    data = DocOpen(uri="file:///w/a.py", language_id="python", version=1, text="x = 1\n")
    return Event(seq=seq, type="doc.open", ts=1_700_000_000_000, data=data.to_data())


def pack(body: Any) -> bytes:
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def error_of(data: bytes | str, limits: Limits | None = None) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        decode_frame(data, limits or Limits())
    return caught.value


@pytest.mark.parametrize(
    "frame",
    [
        Hello(sessions=(SESSION,), client_name="edittrace-lsp", client_version="0.1.0"),
        Welcome(acked={SESSION: 41}),
        Batch(session=SESSION, events=(doc_open(1), doc_open(2))),
        Ack(session=SESSION, acked=2),
        Error(code=ErrorCode.CONFLICT, message="seq 2 differs", details={"session": SESSION}),
    ],
)
def test_every_frame_round_trips(frame: Any) -> None:
    assert decode_frame(encode_frame(frame)) == frame


def test_wire_shape_matches_the_documented_maps() -> None:
    """A client in another language sees exactly the keys docs/protocol.md lists."""
    hello = msgpack.unpackb(
        encode_frame(Hello(sessions=(SESSION,), client_name="c", client_version="1"))
    )
    assert hello == {
        "t": "hello",
        "protocol": 1,
        "sessions": [SESSION],
        "client": {"name": "c", "version": "1"},
    }
    batch = msgpack.unpackb(encode_frame(Batch(session=SESSION, events=(doc_open(),))))
    assert batch["t"] == "batch"
    assert batch["events"][0] == {
        "seq": 1,
        "type": "doc.open",
        "ts": 1_700_000_000_000,
        "data": {"uri": "file:///w/a.py", "language_id": "python", "version": 1, "text": "x = 1\n"},
    }
    error = msgpack.unpackb(
        encode_frame(
            Error(code=ErrorCode.RATE_LIMITED, message="slow", details={"retry_after_ms": 5})
        )
    )
    assert error == {"t": "error", "code": "rate_limited", "message": "slow", "retry_after_ms": 5}


def test_hello_without_protocol_key_means_version_1() -> None:
    frame = decode_frame(
        pack({"t": "hello", "sessions": [], "client": {"name": "a", "version": "b"}})
    )
    assert frame == Hello(sessions=(), client_name="a", client_version="b")


def test_unknown_protocol_version_is_refused() -> None:
    error = error_of(
        pack({"t": "hello", "protocol": 2, "sessions": [], "client": {"name": "a", "version": "b"}})
    )
    assert error.code is ErrorCode.UNSUPPORTED_VERSION
    assert "speaks 1" in error.message


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xc1\xc1\xc1", "not valid MessagePack"),
        (pack([1, 2]), "must be a MessagePack map"),
        (pack({"t": "gossip"}), "unknown frame type 'gossip'"),
        (pack({"t": "batch", "session": "not-a-uuid", "events": []}), "not a canonical"),
        (pack({"t": "batch", "session": SESSION.upper(), "events": []}), "lower-case UUID"),
        (pack({"t": "batch", "session": SESSION, "events": []}), "non-empty list"),
        (pack({"t": "batch", "session": SESSION, "events": [{"seq": 0}]}), "'seq' must be"),
        (
            pack({"t": "batch", "session": SESSION, "events": [{"seq": 1, "type": "Doc Open"}]}),
            "dotted lower-case name",
        ),
        (
            pack(
                {
                    "t": "batch",
                    "session": SESSION,
                    "events": [{"seq": 1, "type": "doc.close", "ts": -1, "data": {"uri": "u"}}],
                }
            ),
            "'ts' must be",
        ),
        (
            pack(
                {
                    "t": "batch",
                    "session": SESSION,
                    "events": [
                        doc_open(1).to_wire(),
                        doc_open(3).to_wire(),
                    ],
                }
            ),
            "consecutive seq",
        ),
        (
            pack(
                {
                    "t": "batch",
                    "session": SESSION,
                    "events": [{"seq": 1, "type": "doc.close", "ts": 1, "data": {"uri": b"raw"}}],
                }
            ),
            "only maps, arrays, strings",
        ),
        (
            pack(
                {
                    "t": "batch",
                    "session": SESSION,
                    "events": [
                        {"seq": 1, "type": "doc.close", "ts": 1, "data": {"uri": float("nan")}}
                    ],
                }
            ),
            "finite",
        ),
        (pack({"t": "hello", "sessions": [SESSION]}), "'client'"),
    ],
)
def test_malformed_frames_say_what_is_wrong(data: bytes, needle: str) -> None:
    error = error_of(data)
    assert error.code is ErrorCode.BAD_FRAME
    assert needle in error.message


def test_text_messages_are_refused() -> None:
    assert error_of('{"t": "hello"}').code is ErrorCode.BAD_FRAME


def test_event_data_is_checked_against_its_type() -> None:
    bad = Event(
        seq=1, type="doc.change", ts=5, data={"uri": "file:///a", "version": "7", "changes": []}
    )
    error = error_of(encode_frame(Batch(session=SESSION, events=(bad,))))
    assert error.code is ErrorCode.BAD_FRAME
    assert "'version' should be an integer" in error.message
    assert "seq 1" in error.message


def test_events_of_unknown_types_are_refused_but_experimental_ones_pass() -> None:
    unknown = Event(seq=1, type="doc.rename", ts=5, data={})
    assert (
        "unknown event type"
        in error_of(encode_frame(Batch(session=SESSION, events=(unknown,)))).message
    )
    experimental = Event(seq=1, type="x.cursor.move", ts=5, data={"line": 3})
    assert decode_frame(encode_frame(Batch(session=SESSION, events=(experimental,)))) == Batch(
        session=SESSION, events=(experimental,)
    )


def test_unknown_keys_in_data_are_kept_for_forward_compatibility() -> None:
    data = {**DocChange(uri="file:///a", version=2, changes=[]).to_data(), "future": {"x": 1}}
    event = Event(seq=1, type="doc.change", ts=5, data=data)
    decoded = decode_frame(encode_frame(Batch(session=SESSION, events=(event,))))
    assert isinstance(decoded, Batch)
    assert decoded.events[0].data["future"] == {"x": 1}


def test_limits() -> None:
    limits = Limits(max_frame_bytes=10_000, max_events_per_batch=3, max_string_bytes=100)
    big = Event(seq=1, type="doc.close", ts=1, data={"uri": "u" * 101})
    assert (
        error_of(encode_frame(Batch(session=SESSION, events=(big,))), limits).code
        is ErrorCode.TOO_LARGE
    )
    many = tuple(doc_open(seq) for seq in range(1, 5))
    error = error_of(encode_frame(Batch(session=SESSION, events=many)), limits)
    assert error.code is ErrorCode.TOO_LARGE
    assert "at most 3" in error.message
    assert error_of(b"\x00" * 10_001, limits).code is ErrorCode.TOO_LARGE
    nested: dict[str, Any] = {"uri": "u"}
    cursor = nested
    for _ in range(40):
        cursor["n"] = {}
        cursor = cursor["n"]
    deep = Event(seq=1, type="doc.close", ts=1, data=nested)
    assert (
        error_of(encode_frame(Batch(session=SESSION, events=(deep,)))).code is ErrorCode.TOO_LARGE
    )


def test_hello_with_too_many_sessions_is_too_large() -> None:
    sessions = tuple(str(uuid.UUID(int=n)) for n in range(5))
    frame = Hello(sessions=sessions, client_name="a", client_version="b")
    assert (
        error_of(encode_frame(frame), Limits(max_sessions_per_hello=4)).code is ErrorCode.TOO_LARGE
    )


def test_unknown_error_codes_from_a_newer_collector_decode_as_internal() -> None:
    frame = decode_frame(
        pack({"t": "error", "code": "new_code", "message": "m", "session": SESSION})
    )
    assert frame == Error(code=ErrorCode.INTERNAL, message="m", details={"session": SESSION})
