"""Frames: the messages of the stream, and their MessagePack encoding.

Every websocket message is binary and holds one MessagePack map whose key ``"t"``
names the frame. ``decode_frame`` turns bytes into a frame or raises a
``ProtocolError`` whose code and message are fit to send back to the peer as they
are; ``encode_frame`` does the reverse. Nothing here knows about sockets.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

from edittrace.protocol.errors import ErrorCode, ProtocolError
from edittrace.protocol.events import validate_event_data

PROTOCOL_VERSION = 1

_MAX_INT = 2**63 - 1
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class Limits:
    """What one frame may hold; documented in docs/protocol.md ("Limits")."""

    max_frame_bytes: int = 8 * 1024 * 1024
    max_events_per_batch: int = 1000
    max_sessions_per_hello: int = 1000
    max_string_bytes: int = 2 * 1024 * 1024
    max_items: int = 100_000
    """Items of any one array or map inside a frame."""
    max_depth: int = 32
    """Nesting of maps and arrays inside one event's ``data``."""


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Event:
    """One recorded fact. ``seq`` counts from 1 per session, ``ts`` is Unix ms (client clock)."""

    seq: int
    type: str
    ts: int
    data: Mapping[str, Any] = field(default_factory=dict)
    data_json: str | None = field(default=None, compare=False, repr=False)
    """``data`` as canonical JSON, set by ``decode_frame`` so a store need not encode it again."""

    def to_wire(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "ts": self.ts, "data": dict(self.data)}


@dataclass(frozen=True)
class Hello:
    """Client -> collector, first frame of a connection: which sessions it will send."""

    sessions: tuple[str, ...]
    client_name: str
    client_version: str
    protocol: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Welcome:
    """Collector -> client: per session, the highest seq stored with no gap from 1."""

    acked: Mapping[str, int]
    protocol: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Batch:
    """Client -> collector: consecutive events of one session."""

    session: str
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Ack:
    """Collector -> client, sent only after the batch is committed to disk."""

    session: str
    acked: int


@dataclass(frozen=True)
class Error:
    """Collector -> client; ``details`` holds extra keys, e.g. ``session``, ``retry_after_ms``."""

    code: ErrorCode
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


Frame = Hello | Welcome | Batch | Ack | Error


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(data: Mapping[str, Any]) -> str:
    """The one JSON spelling of ``data``: sorted keys, no spaces, UTF-8 kept as is.

    Two events are the same event when their type, ts and canonical data are equal. The
    collector always has orjson (ten times faster than the stdlib encoder here, and JSON
    encoding is most of ingest's cost); the language server's bundle may not, and needs no
    byte-identical spelling: only the collector compares canonical texts.
    """
    return _encode_sorted(data)


def _orjson_encoder() -> Callable[[Mapping[str, Any]], str]:
    try:
        import orjson
    except ImportError:  # the VS Code bundle carries pure-Python packages only
        return _CANONICAL.encode

    def encode(data: Mapping[str, Any]) -> str:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()

    return encode


_encode_sorted = _orjson_encoder()


def encode_frame(frame: Frame) -> bytes:
    """The MessagePack bytes of ``frame``, ready to send as one binary websocket message."""
    body: dict[str, Any]
    match frame:
        case Hello():
            body = {
                "t": "hello",
                "protocol": frame.protocol,
                "sessions": list(frame.sessions),
                "client": {"name": frame.client_name, "version": frame.client_version},
            }
        case Welcome():
            body = {"t": "welcome", "protocol": frame.protocol, "acked": dict(frame.acked)}
        case Batch():
            body = {
                "t": "batch",
                "session": frame.session,
                "events": [event.to_wire() for event in frame.events],
            }
        case Ack():
            body = {"t": "ack", "session": frame.session, "acked": frame.acked}
        case Error():
            body = {
                **frame.details,
                "t": "error",
                "code": str(frame.code),
                "message": frame.message,
            }
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def decode_frame(data: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Frame:
    """Parse and validate one message. Raises ``ProtocolError`` saying what was wrong."""
    if isinstance(data, str):
        raise ProtocolError(ErrorCode.BAD_FRAME, "frames are binary MessagePack, not text messages")
    if len(data) > limits.max_frame_bytes:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"frame of {len(data)} bytes exceeds the limit of {limits.max_frame_bytes} bytes; "
            "send smaller batches",
        )
    body = _unpack(data, limits)
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "a frame must be a MessagePack map")
    kind = body.get("t")
    match kind:
        case "hello":
            return _decode_hello(body, limits)
        case "welcome":
            return _decode_welcome(body)
        case "batch":
            return _decode_batch(body, limits)
        case "ack":
            return Ack(session=_session_id(body.get("session")), acked=_int(body, "acked", 0))
        case "error":
            return _decode_error(body)
        case _:
            raise ProtocolError(
                ErrorCode.BAD_FRAME,
                f"unknown frame type {kind!r}; expected hello, welcome, batch, ack or error",
            )


def _unpack(data: bytes, limits: Limits) -> Any:
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            max_str_len=limits.max_string_bytes,
            max_bin_len=limits.max_string_bytes,
            max_array_len=limits.max_items,
            max_map_len=limits.max_items,
        )
    except ValueError as exc:
        if "exceeds max" in str(exc):
            raise ProtocolError(
                ErrorCode.TOO_LARGE,
                f"a string, array or map exceeds the frame limits ({exc}); see docs/protocol.md",
            ) from None
        raise ProtocolError(ErrorCode.BAD_FRAME, f"not valid MessagePack: {exc}") from None
    except Exception as exc:  # msgpack raises several unrelated types for garbage input
        raise ProtocolError(ErrorCode.BAD_FRAME, f"not valid MessagePack: {exc}") from None


def _decode_hello(body: dict[str, Any], limits: Limits) -> Hello:
    protocol = body.get("protocol", PROTOCOL_VERSION)
    if protocol != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol {protocol!r} is not supported; this collector speaks {PROTOCOL_VERSION}",
        )
    sessions = body.get("sessions")
    if not isinstance(sessions, list):
        raise ProtocolError(ErrorCode.BAD_FRAME, "hello needs 'sessions', a list of session ids")
    if len(sessions) > limits.max_sessions_per_hello:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"hello names {len(sessions)} sessions; at most {limits.max_sessions_per_hello}",
        )
    client = body.get("client")
    if not isinstance(client, dict) or not all(
        isinstance(client.get(key), str) for key in ("name", "version")
    ):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, "hello needs 'client': {'name': str, 'version': str}"
        )
    return Hello(
        sessions=tuple(_session_id(session) for session in sessions),
        client_name=client["name"],
        client_version=client["version"],
        protocol=PROTOCOL_VERSION,
    )


def _decode_welcome(body: dict[str, Any]) -> Welcome:
    acked = body.get("acked")
    if not isinstance(acked, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "welcome needs 'acked', a map session -> seq")
    checked = {_session_id(session): _int(acked, session, 0) for session in acked}
    return Welcome(acked=checked, protocol=_int(body, "protocol", 1))


def _decode_batch(body: dict[str, Any], limits: Limits) -> Batch:
    session = _session_id(body.get("session"))
    raw_events = body.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise ProtocolError(ErrorCode.BAD_FRAME, "batch needs 'events', a non-empty list")
    if len(raw_events) > limits.max_events_per_batch:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"batch holds {len(raw_events)} events; at most {limits.max_events_per_batch}",
        )
    events = tuple(_decode_event(raw, limits) for raw in raw_events)
    for before, after in itertools.pairwise(events):
        if after.seq != before.seq + 1:
            raise ProtocolError(
                ErrorCode.BAD_FRAME,
                f"events of a batch must have consecutive seq; {after.seq} follows {before.seq}",
            )
    return Batch(session=session, events=events)


def _decode_event(raw: Any, limits: Limits) -> Event:
    if not isinstance(raw, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "each event must be a map")
    seq = _int(raw, "seq", 1)
    where = f"event seq {seq}"
    kind = raw.get("type")
    if not isinstance(kind, str) or len(kind) > 64 or not _TYPE_NAME.match(kind):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"{where}: 'type' must be a dotted lower-case name like doc.open"
        )
    ts = _int(raw, "ts", 0, where=where)
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, f"{where}: 'data' must be a map")
    # Encoding to JSON is the check that data is JSON (the encoder refuses bytes, non-string
    # keys and integers beyond 64 bits) and yields the text the collector stores: the hot
    # path of ingest. The slower walk runs only to explain a refusal, or when the text may
    # hide a NaN or nest too deep.
    try:
        text = canonical_json(data)
    except (TypeError, ValueError) as error:
        _check_json(data, limits, depth=0, where=where)
        raise ProtocolError(ErrorCode.BAD_FRAME, f"{where}: data is not JSON: {error}") from None
    except RecursionError:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"{where}: data nests deeper than {limits.max_depth} levels"
        ) from None
    # orjson writes NaN as null: a null may hide one. Deep nesting needs many brackets.
    if "null" in text or text.count("{") + text.count("[") > limits.max_depth:
        _check_json(data, limits, depth=0, where=where)
    validate_event_data(kind, data, where=where)
    return Event(seq=seq, type=kind, ts=ts, data=data, data_json=text)


def _decode_error(body: dict[str, Any]) -> Error:
    code = body.get("code")
    message = body.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        raise ProtocolError(ErrorCode.BAD_FRAME, "error needs 'code' and 'message' strings")
    try:
        known = ErrorCode(code)
    except ValueError:
        known = ErrorCode.INTERNAL
    details = {key: value for key, value in body.items() if key not in {"t", "code", "message"}}
    return Error(code=known, message=message, details=details)


def _session_id(value: Any) -> str:
    """Session ids are UUIDs in canonical lower-case form, so one session has one spelling."""
    if isinstance(value, str):
        try:
            if str(uuid.UUID(value)) == value:
                return value
        except ValueError:
            pass
    raise ProtocolError(
        ErrorCode.BAD_FRAME,
        f"session id {value!r} is not a canonical lower-case UUID string",
    )


def _int(body: Mapping[str, Any], key: str, minimum: int, *, where: str = "frame") -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= _MAX_INT:
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"{where}: {key!r} must be an integer >= {minimum}, got {value!r}"
        )
    return value


def _check_json(value: Any, limits: Limits, depth: int, where: str) -> None:
    """Event data is stored as JSON text, so it must be JSON: str keys, finite numbers, no bytes."""
    if depth > limits.max_depth:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"{where}: data nests deeper than {limits.max_depth} levels"
        )
    # Hot path of the collector (every value of every event): common leaves are checked
    # inline by exact type, without a call; anything else takes the full check below.
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProtocolError(ErrorCode.BAD_FRAME, f"{where}: map keys must be strings")
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -_MAX_INT - 1 <= item <= _MAX_INT:
                continue
            _check_json(item, limits, depth + 1, where)
    elif isinstance(value, list):
        for item in value:
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -_MAX_INT - 1 <= item <= _MAX_INT:
                continue
            _check_json(item, limits, depth + 1, where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ProtocolError(ErrorCode.BAD_FRAME, f"{where}: numbers must be finite")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -_MAX_INT - 1 <= value <= _MAX_INT:
            raise ProtocolError(ErrorCode.BAD_FRAME, f"{where}: integers must fit in 64 bits")
    elif value is not None and not isinstance(value, str | bool):
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            f"{where}: data may hold only maps, arrays, strings, numbers, booleans and nil",
        )


def batch_of(session: str, events: Sequence[Event]) -> Batch:
    """A ``Batch`` of ``events``; a convenience for clients building frames."""
    return Batch(session=session, events=tuple(events))
