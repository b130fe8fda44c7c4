"""The edittrace wire protocol: frames, events and their MessagePack encoding.

Sans-I/O: nothing here touches a socket, a file or a clock. Both ends of the
stream (the language server's uploader and the collector) speak through it, and
``docs/protocol.md`` describes the same rules for anyone writing a client.
"""

from edittrace.protocol.errors import ErrorCode, ProtocolError
from edittrace.protocol.events import EVENT_TYPES, EventData, validate_event_data
from edittrace.protocol.frames import (
    PROTOCOL_VERSION,
    Ack,
    Batch,
    Error,
    Event,
    Frame,
    Hello,
    Limits,
    Welcome,
    decode_frame,
    encode_frame,
)

__all__ = [
    "EVENT_TYPES",
    "PROTOCOL_VERSION",
    "Ack",
    "Batch",
    "Error",
    "ErrorCode",
    "Event",
    "EventData",
    "Frame",
    "Hello",
    "Limits",
    "ProtocolError",
    "Welcome",
    "decode_frame",
    "encode_frame",
    "validate_event_data",
]
